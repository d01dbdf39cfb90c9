package io.github.hunyuanvideo.text;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.hunyuanvideo.io.Weights;
import io.github.hunyuanvideo.io.testing.ReferenceCase;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A reference test class's golden case, opened before its tests and closed after them: register it as a
 * {@code @RegisterExtension static final} field.
 */
final class TinyCase implements BeforeAllCallback, AfterAllCallback {
    private final String name;
    private final double tol;
    private ReferenceCase ref;

    /** @param tol the relative tolerance {@link #report} asserts */
    TinyCase(String name, double tol) {
        this.name = name;
        this.tol = tol;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        ref = ReferenceCase.load(name);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        ref.close();
    }

    ReferenceCase ref() {
        return ref;
    }

    /** The field {@code key} of the case's config. */
    JsonNode cfg(String key) {
        return ref.config().get(key);
    }

    Tensor tensor(String key) {
        return ref.tensor(key);
    }

    Weights tensors() {
        return ref.tensors();
    }

    /** Asserts {@code actual} is within the tolerance of the case's {@code key} and prints the error. */
    void report(String key, Tensor actual) {
        System.out.printf("%s %s: relative error %.3e%n", name, key, ref.assertClose(key, actual, tol));
    }
}
