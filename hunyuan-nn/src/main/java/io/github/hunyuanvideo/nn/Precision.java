package io.github.hunyuanvideo.nn;

import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.Locale;

/** The precisions the official CLI accepts ({@code fp32}, {@code fp16}, {@code bf16}). */
public enum Precision {
    FP32(ScalarType.Float),
    FP16(ScalarType.Half),
    BF16(ScalarType.BFloat16);

    private final ScalarType scalarType;

    Precision(ScalarType scalarType) {
        this.scalarType = scalarType;
    }

    public ScalarType scalarType() {
        return scalarType;
    }

    /** Parses {@code fp32|fp16|bf16} (case-insensitive). */
    public static Precision parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new IllegalArgumentException("precision must be one of fp32, fp16, bf16, got '" + s + "'");
        }
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
