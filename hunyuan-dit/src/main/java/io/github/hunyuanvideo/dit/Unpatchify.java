package io.github.hunyuanvideo.dit;

import org.bytedeco.pytorch.Tensor;

/** Inverse of the patch embedding's token layout (the original's {@code unpatchify}). */
final class Unpatchify {
    private Unpatchify() {
    }

    /**
     * @param tokens {@code [B, T'·H'·W', C·pt·ph·pw]}, features in (c, pt, ph, pw) order, tokens in (t, h, w) order
     * @param grid   token grid {@code {T', H', W'}}
     * @param patch  {@code {pt, ph, pw}}
     * @return {@code [B, C, T'·pt, H'·ph, W'·pw]}
     */
    static Tensor apply(Tensor tokens, long[] grid, long[] patch) {
        long b = tokens.size(0);
        long c = tokens.size(2) / (patch[0] * patch[1] * patch[2]);
        return tokens.view(b, grid[0], grid[1], grid[2], c, patch[0], patch[1], patch[2])
                .permute(0, 4, 1, 5, 2, 6, 3, 7)
                .reshape(b, c, grid[0] * patch[0], grid[1] * patch[1], grid[2] * patch[2]);
    }
}
