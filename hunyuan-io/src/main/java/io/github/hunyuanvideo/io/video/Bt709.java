package io.github.hunyuanvideo.io.video;

/**
 * RGB ↔ Y'CbCr with the BT.709 matrix, 8-bit limited ("TV") range, 4:2:0 chroma from the mean of each 2×2 block.
 *
 * <p>Done in Java rather than in swscale so that the matrix and range are exactly the ones the stream is tagged with
 * (swscale's legacy API does not reliably apply {@code sws_setColorspaceDetails} to every conversion path).
 */
final class Bt709 {
    static final double KR = 0.2126;
    static final double KB = 0.0722;
    static final double KG = 1 - KR - KB;
    static final double Y_SCALE = 219.0 / 255.0;
    static final double C_SCALE = 224.0 / 255.0;
    // Y = 16 + yr·R + yg·G + yb·B
    private static final float YR = (float) (KR * Y_SCALE);
    private static final float YG = (float) (KG * Y_SCALE);
    private static final float YB = (float) (KB * Y_SCALE);
    // Cb = 128 + (B − Y')·cbs, Cr = 128 + (R − Y')·crs, with Y' the unscaled luma
    static final float CBS = (float) (C_SCALE / (2 * (1 - KB)));
    static final float CRS = (float) (C_SCALE / (2 * (1 - KR)));

    private Bt709() {
    }

    /**
     * Converts packed RGB {@code [h, w, 3]} (w, h even) into the planes of a yuv420p picture.
     *
     * @param y  luma, {@code h} rows of {@code yStride} bytes
     * @param cb blue difference, {@code h/2} rows of {@code cStride} bytes
     * @param cr red difference, same layout as {@code cb}
     */
    static void rgbToYuv420(byte[] rgb, int w, int h, byte[] y, int yStride, byte[] cb, byte[] cr, int cStride) {
        for (int row = 0; row < h; row++) {
            int src = row * w * 3;
            int dst = row * yStride;
            for (int x = 0; x < w; x++, src += 3) {
                float luma = 16f + YR * (rgb[src] & 0xff) + YG * (rgb[src + 1] & 0xff) + YB * (rgb[src + 2] & 0xff);
                y[dst + x] = (byte) Math.round(luma);
            }
        }
        for (int row = 0; row < h / 2; row++) {
            int top = 2 * row * w * 3;
            int bottom = top + w * 3;
            int dst = row * cStride;
            for (int x = 0; x < w / 2; x++) {
                int a = top + 6 * x;
                int b = bottom + 6 * x;
                float r = ((rgb[a] & 0xff) + (rgb[a + 3] & 0xff) + (rgb[b] & 0xff) + (rgb[b + 3] & 0xff)) * 0.25f;
                float g = ((rgb[a + 1] & 0xff) + (rgb[a + 4] & 0xff) + (rgb[b + 1] & 0xff) + (rgb[b + 4] & 0xff)) * 0.25f;
                float bl = ((rgb[a + 2] & 0xff) + (rgb[a + 5] & 0xff) + (rgb[b + 2] & 0xff) + (rgb[b + 5] & 0xff)) * 0.25f;
                float luma = (float) KR * r + (float) KG * g + (float) KB * bl;
                cb[dst + x] = (byte) clamp(Math.round(128f + (bl - luma) * CBS));
                cr[dst + x] = (byte) clamp(Math.round(128f + (r - luma) * CRS));
            }
        }
    }

    private static int clamp(int v) {
        return Math.max(0, Math.min(255, v));
    }
}
