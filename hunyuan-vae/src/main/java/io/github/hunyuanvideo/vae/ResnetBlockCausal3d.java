package io.github.hunyuanvideo.vae;

import io.github.hunyuanvideo.nn.Parameters;
import io.github.hunyuanvideo.nn.Scopes;
import org.bytedeco.pytorch.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code ResnetBlockCausal3D}: {@code h = conv1(silu(norm1(x)))}, {@code h = conv2(silu(norm2(h)))},
 * {@code out = shortcut(x) + h}; the shortcut is a k = 1 causal convolution when the width changes.
 */
final class ResnetBlockCausal3d implements Part {
    private final GroupNorm norm1;
    private final CausalConv3d conv1;
    private final GroupNorm norm2;
    private final CausalConv3d conv2;
    private final CausalConv3d shortcut;

    private ResnetBlockCausal3d(GroupNorm norm1, CausalConv3d conv1, GroupNorm norm2, CausalConv3d conv2,
                                CausalConv3d shortcut) {
        this.norm1 = norm1;
        this.conv1 = conv1;
        this.norm2 = norm2;
        this.conv2 = conv2;
        this.shortcut = shortcut;
    }

    static ResnetBlockCausal3d load(Parameters p, String prefix, int in, int out, int groups) {
        return new ResnetBlockCausal3d(
                GroupNorm.load(p, prefix + ".norm1", in, groups),
                CausalConv3d.load(p, prefix + ".conv1.conv", in, out, 3),
                GroupNorm.load(p, prefix + ".norm2", out, groups),
                CausalConv3d.load(p, prefix + ".conv2.conv", out, out, 3),
                in == out ? null : CausalConv3d.load(p, prefix + ".conv_shortcut.conv", in, out, 1));
    }

    /**
     * The {@code count} resnets {@code prefix.resnets.r} of an up or down block, each a part of {@code parts}: the
     * first reads {@code in} channels, all write {@code out}.
     */
    static List<Part> loadAll(Parameters p, PartBinder parts, String prefix, int count, int in, int out, int groups) {
        List<Part> resnets = new ArrayList<>();
        for (int r = 0; r < count; r++) {
            String name = prefix + ".resnets." + r;
            int width = r == 0 ? in : out;
            resnets.add(parts.bind(p, q -> load(q, name, width, out, groups)));
        }
        return List.copyOf(resnets);
    }

    /** Runs {@code resnets} in turn, then {@code sampler} unless it is null, freeing each intermediate. */
    static Tensor forwardAll(List<Part> resnets, Part sampler, Tensor x) {
        return Scopes.scoped(() -> {
            Tensor h = null;
            for (Part r : resnets) {
                Tensor next = r.forward(h == null ? x : h);
                Scopes.release(h);
                h = next;
            }
            if (sampler != null) {
                Tensor next = sampler.forward(h);
                h.close();
                h = next;
            }
            return h;
        });
    }

    @Override
    public Tensor forward(Tensor x) {
        return Scopes.scoped(() -> {
            Tensor h = norm1.siluPadded(x, conv1.kernel());
            h = conv1.forwardPadded(h);
            Tensor padded = norm2.siluPadded(h, conv2.kernel());
            h.close();
            Tensor out = conv2.forwardPadded(padded);
            if (shortcut == null) {
                out.add_(x);
            } else {
                Tensor s = shortcut.forward(x);
                out.add_(s);
                s.close();
            }
            return out;
        });
    }
}
