package io.github.hunyuanvideo.io.video;

import java.util.List;

/**
 * torchvision's {@code make_grid} on packed RGB images of one size: {@code nrow} images per row, {@code padding}
 * pixels of black (pad value 0) around and between them; a single image comes back unchanged, without padding.
 */
record Grid(byte[] rgb, int height, int width) {

    static Grid of(List<byte[]> images, int height, int width, int nrow, int padding) {
        int n = images.size();
        if (n == 1) {
            return new Grid(images.get(0), height, width);
        }
        int xmaps = Math.min(nrow, n);
        int ymaps = (n + xmaps - 1) / xmaps;
        int cellH = height + padding;
        int cellW = width + padding;
        int gridH = cellH * ymaps + padding;
        int gridW = cellW * xmaps + padding;
        byte[] out = new byte[gridH * gridW * 3];
        int k = 0;
        for (int y = 0; y < ymaps && k < n; y++) {
            for (int x = 0; x < xmaps && k < n; x++, k++) {
                byte[] img = images.get(k);
                int top = y * cellH + padding;
                int left = x * cellW + padding;
                for (int row = 0; row < height; row++) {
                    System.arraycopy(img, row * width * 3, out, ((top + row) * gridW + left) * 3, width * 3);
                }
            }
        }
        return new Grid(out, gridH, gridW);
    }

    /** Checks {@code nrow ≥ 1} and {@code padding ≥ 0}, naming the bad one. */
    static void checkLayout(int nrow, int padding) {
        if (nrow < 1) {
            throw new IllegalArgumentException("nrow must be >= 1, got " + nrow);
        }
        if (padding < 0) {
            throw new IllegalArgumentException("padding must be >= 0, got " + padding);
        }
    }
}
