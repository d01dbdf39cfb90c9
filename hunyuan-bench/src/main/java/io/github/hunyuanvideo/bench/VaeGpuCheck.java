package io.github.hunyuanvideo.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.hunyuanvideo.nn.Precision;
import io.github.hunyuanvideo.nn.Tensors;
import io.github.hunyuanvideo.io.Weights;
import io.github.hunyuanvideo.vae.CausalVideoVae;
import io.github.hunyuanvideo.vae.DiagonalGaussian;
import io.github.hunyuanvideo.vae.TilingConfig;
import io.github.hunyuanvideo.vae.VaeConfig;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;

import java.io.IOException;
import java.util.Locale;

/**
 * Runs the {@code vae_tiny} golden case in half precision on the GPU and prints each output's relative error
 * {@code ‖ours − ref‖ / ‖ref‖} against the float32 reference; exits with status 1 if one exceeds the tolerance.
 *
 * <p>Arguments: {@code <reference-dir>} holding {@code vae_tiny.json} and {@code vae_tiny.safetensors} (only those
 * two files are needed), then optionally {@code --device cuda|cuda:N|cpu} (default cuda), {@code --dtype fp16|bf16|fp32}
 * (default fp16) and {@code --tol T} (default 0.02).
 * Example: {@code java -cp ... io.github.hunyuanvideo.bench.VaeGpuCheck /path/to/reference}.
 */
public final class VaeGpuCheck {
    private VaeGpuCheck() {
    }

    public static void main(String[] args) throws IOException {
        GoldenCheckArgs a = GoldenCheckArgs.parse("VaeGpuCheck", args, Precision.FP16, 0.02);
        String device = a.device();
        Precision dtype = a.dtype();
        double tol = a.tol();
        JsonNode config = a.caseConfig("vae_tiny");
        Device dev = a.openDevice();
        boolean ok = true;
        System.out.printf(Locale.ROOT, "%nvae_tiny on %s in %s (tolerance %.0e)%n%n| output | relative error |%n"
                + "|---|---|%n", device, dtype, tol);
        try (Weights all = Weights.open(a.caseTensors("vae_tiny"));
             CausalVideoVae vae = CausalVideoVae.load(GoldenCheckArgs.modelWeights(all), VaeConfig.fromJson(config),
                     dev, dtype.scalarType());
             PointerScope scope = new PointerScope()) {
            vae.setTiling(TilingConfig.disabled());
            DiagonalGaussian posterior = vae.encode(all.get("in.x"));
            ok &= report("out.posterior_mean", posterior.mean(), all, tol);
            ok &= report("out.posterior_logvar", posterior.logvar(), all, tol);
            ok &= report("out.decode_mean", vae.decode(all.get("out.posterior_mean")), all, tol);

            JsonNode t = config.get("tiling_for_x2");
            vae.setTiling(new TilingConfig(t.get("tile_sample_min_size").asInt(),
                    t.get("tile_sample_min_tsize").asInt(), t.get("tile_overlap_factor").asDouble(), true, true));
            DiagonalGaussian tiled = vae.encode(all.get("in.x2"));
            ok &= report("out.tiled_posterior_mean", tiled.mean(), all, tol);
            ok &= report("out.tiled_posterior_logvar", tiled.logvar(), all, tol);
            ok &= report("out.tiled_decode", vae.decode(all.get("out.tiled_posterior_mean")), all, tol);
        }
        System.out.println();
        System.out.println(ok ? "PASS" : "FAIL");
        if (!ok) {
            System.exit(1);
        }
    }

    private static boolean report(String key, Tensor ours, Weights ref, double tol) {
        double err = Tensors.relativeError(ours, ref.get(key));
        System.out.printf(Locale.ROOT, "| %s | %.3e%s |%n", key, err, err <= tol ? "" : " (over tolerance)");
        return err <= tol;
    }
}
