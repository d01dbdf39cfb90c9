package io.github.hunyuanvideo.io;

import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.Locale;

/** Element types that checkpoint files may hold, with their byte sizes and libtorch scalar types. */
public enum DType {
    F64(8, ScalarType.Double),
    F32(4, ScalarType.Float),
    F16(2, ScalarType.Half),
    BF16(2, ScalarType.BFloat16),
    F8_E4M3(1, ScalarType.Float8_e4m3fn),
    F8_E5M2(1, ScalarType.Float8_e5m2),
    I64(8, ScalarType.Long),
    I32(4, ScalarType.Int),
    I16(2, ScalarType.Short),
    I8(1, ScalarType.Char),
    U8(1, ScalarType.Byte),
    BOOL(1, ScalarType.Bool);

    private final int byteSize;
    private final ScalarType scalarType;

    DType(int byteSize, ScalarType scalarType) {
        this.byteSize = byteSize;
        this.scalarType = scalarType;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** The libtorch scalar type of this element type. */
    public ScalarType scalarType() {
        return scalarType;
    }

    /**
     * Parses a safetensors dtype string ("F32", "BF16", ...).
     *
     * @throws IllegalArgumentException naming the string if it is not on the whitelist
     */
    public static DType fromSafetensors(String name) {
        try {
            return DType.valueOf(name);
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new IllegalArgumentException("unsupported safetensors dtype '" + name + "'");
        }
    }

    /**
     * Parses a PyTorch dtype name as written in the reference JSON files ("float32", "bfloat16", "int64", ...).
     */
    public static DType fromTorchName(String name) {
        String n = name.toLowerCase(Locale.ROOT).replace("torch.", "");
        return switch (n) {
            case "float64", "double" -> F64;
            case "float32", "float" -> F32;
            case "float16", "half" -> F16;
            case "bfloat16" -> BF16;
            case "float8_e4m3fn" -> F8_E4M3;
            case "float8_e5m2" -> F8_E5M2;
            case "int64", "long" -> I64;
            case "int32", "int" -> I32;
            case "int16", "short" -> I16;
            case "int8" -> I8;
            case "uint8" -> U8;
            case "bool" -> BOOL;
            default -> throw new IllegalArgumentException("unsupported torch dtype '" + name + "'");
        };
    }
}
