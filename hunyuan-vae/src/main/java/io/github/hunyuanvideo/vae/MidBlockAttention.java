package io.github.hunyuanvideo.vae;

import io.github.hunyuanvideo.nn.Linear;
import io.github.hunyuanvideo.nn.Parameters;
import io.github.hunyuanvideo.nn.Scopes;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The mid block's single-head self-attention (diffusers {@code Attention} with GroupNorm and a residual): tokens in
 * (frame, h, w) order, and a frame-causal mask under which a token sees every token of its own and earlier frames.
 * Closing it releases the projections' references to their weights.
 */
final class MidBlockAttention implements Part {
    private final GroupNorm norm;
    private final Linear toQ;
    private final Linear toK;
    private final Linear toV;
    private final Linear toOut;

    private MidBlockAttention(GroupNorm norm, Linear toQ, Linear toK, Linear toV, Linear toOut) {
        this.norm = norm;
        this.toQ = toQ;
        this.toK = toK;
        this.toV = toV;
        this.toOut = toOut;
    }

    /** Binds {@code prefix.{group_norm, to_q, to_k, to_v, to_out.0}} ({@code prefix} = {@code ….attentions.0}). */
    static MidBlockAttention load(Parameters p, String prefix, int channels, int groups) {
        return new MidBlockAttention(GroupNorm.load(p, prefix + ".group_norm", channels, groups),
                p.linear(prefix + ".to_q", channels, channels, true),
                p.linear(prefix + ".to_k", channels, channels, true),
                p.linear(prefix + ".to_v", channels, channels, true),
                p.linear(prefix + ".to_out.0", channels, channels, true));
    }

    /** {@code x + attention(x)} for x [B, C, T, H, W]. */
    @Override
    public Tensor forward(Tensor x) {
        return Scopes.scoped(() -> {
            long b = x.size(0);
            long c = x.size(1);
            long t = x.size(2);
            long hw = x.size(3) * x.size(4);
            long n = t * hw;
            Tensor normed = norm.forward(x, false);
            Tensor seq = normed.view(b, c, n).transpose(1, 2).contiguous();
            normed.close();
            Tensor q = toQ.forward(seq).unsqueeze(1);
            Tensor k = toK.forward(seq).unsqueeze(1);
            Tensor v = toV.forward(seq).unsqueeze(1);
            seq.close();
            Tensor attn = torch.scaled_dot_product_attention(q, k, v,
                    new TensorOptional(frameCausalMask(t, hw, x)), 0.0, false, new DoubleOptional(), false);
            q.close();
            k.close();
            v.close();
            Tensor out = toOut.forward(attn.squeeze(1));
            attn.close();
            return x.add(out.transpose(1, 2).view(b, c, t, x.size(3), x.size(4))).contiguous();
        });
    }

    /** Boolean [N, N], true where key frame ≤ query frame (the official additive 0/−inf mask, as a boolean). */
    static Tensor frameCausalMask(long frames, long tokensPerFrame, Tensor like) {
        Tensor frame = torch.arange(new Scalar(frames), new TensorOptions(like.device()).dtype(
                        new org.bytedeco.pytorch.ScalarTypeOptional(ScalarType.Long)))
                .repeat_interleave(tokensPerFrame);
        return frame.unsqueeze(0).le(frame.unsqueeze(1));
    }

    @Override
    public void close() {
        Scopes.closeAll(toQ, toK, toV, toOut);
    }
}
