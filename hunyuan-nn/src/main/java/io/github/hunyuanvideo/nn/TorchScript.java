package io.github.hunyuanvideo.nn;

import org.bytedeco.pytorch.CompilationUnit;
import org.bytedeco.pytorch.Function;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.IValueVector;
import org.bytedeco.pytorch.QualifiedName;
import org.bytedeco.pytorch.Tensor;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * TorchScript functions compiled from source and called from Java: the way to hand libtorch's tensor-expression fuser
 * an elementwise expression to compile into one kernel.
 */
public final class TorchScript {
    /**
     * Every unit compiled so far. A function belongs to its unit, and JavaCPP frees an unreachable unit when the GC
     * collects it, retained or not: only a strong reference keeps it alive.
     */
    private static final List<CompilationUnit> UNITS = new CopyOnWriteArrayList<>();

    private TorchScript() {
    }

    /**
     * Compiles {@code source} and returns its function {@code name}. The compilation unit is kept for the life of the
     * JVM, whatever pointer scope is open: compile once (a static holder, or once per benchmark run).
     *
     * @throws RuntimeException libtorch's compile error, naming the offending line
     */
    public static Function compile(String source, String name) {
        CompilationUnit unit = new CompilationUnit(source);
        // Retained against the caller's pointer scope, referenced against the GC.
        unit.retainReference();
        UNITS.add(unit);
        return unit.get_function(new QualifiedName(name));
    }

    /**
     * Calls {@code f} on {@code args} and returns its tensor result, a reference of its own in the caller's scope
     * ({@code IValue.toTensor()} only views the result's tensor, which dies with the IValue).
     */
    public static Tensor call(Function f, IValue... args) {
        return new Tensor(f.apply(new IValueVector(args)).toTensor());
    }
}
