package io.github.hunyuanvideo.dit;

import io.github.hunyuanvideo.nn.Linear;
import io.github.hunyuanvideo.nn.Parameters;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * {@code img_in}: Conv3d with kernel = stride = patch, flattened to tokens in (t, h, w) order. Because the kernel
 * equals the stride, it is computed as one Linear over the unfolded patches (features in (c, pt, ph, pw) order, the
 * Conv3d weight's own layout): the output is born {@code [B, L, hidden]} contiguous, with no transpose copy of the
 * activation.
 */
final class PatchEmbed implements AutoCloseable {
    private final Linear proj;
    private final long pt;
    private final long ph;
    private final long pw;

    private PatchEmbed(Linear proj, long pt, long ph, long pw) {
        this.proj = proj;
        this.pt = pt;
        this.ph = ph;
        this.pw = pw;
    }

    /** Binds {@code img_in.proj.*}. */
    static PatchEmbed load(Parameters p, DitConfig cfg) {
        long pt = cfg.patchSize().get(0);
        long ph = cfg.patchSize().get(1);
        long pw = cfg.patchSize().get(2);
        long hidden = cfg.hiddenSize();
        Tensor w = p.tensor("img_in.proj.weight", hidden, cfg.inChannels(), pt, ph, pw);
        Tensor b = p.tensor("img_in.proj.bias", hidden);
        return new PatchEmbed(new Linear(w.view(hidden, cfg.inFeatures()), b), pt, ph, pw);
    }

    /**
     * @param x     latents {@code [B, C, T, H, W]} (any float dtype; cast to the compute dtype as autocast does)
     * @param dtype the compute dtype
     * @return tokens {@code [B, T/pt·H/ph·W/pw, hidden]}
     */
    Tensor forward(Tensor x, ScalarType dtype) {
        long b = x.size(0);
        long c = x.size(1);
        long t = x.size(2) / pt;
        long h = x.size(3) / ph;
        long w = x.size(4) / pw;
        Tensor patches = x.to(dtype).reshape(b, c, t, pt, h, ph, w, pw).permute(0, 2, 4, 6, 1, 3, 5, 7)
                .reshape(b, t * h * w, c * pt * ph * pw);
        return proj.forward(patches);
    }

    @Override
    public void close() {
        proj.close();
    }
}
