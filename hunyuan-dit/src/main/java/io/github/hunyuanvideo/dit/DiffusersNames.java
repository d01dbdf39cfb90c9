package io.github.hunyuanvideo.dit;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The diffusers {@code HunyuanVideoTransformer3DModel} names of the official DiT parameters, as diffusers'
 * {@code convert_hunyuan_video_to_diffusers.py} writes them: plain renames, fused q/k/v (and single-block MLP) weights
 * split along dim 0, and the final layer's (shift, scale) rows stored as (scale, shift).
 */
final class DiffusersNames {
    /**
     * Where one official tensor lives in a diffusers checkpoint.
     *
     * @param parts       diffusers names whose dim-0 concatenation is the official tensor
     * @param rows        dim-0 size of each part
     * @param swapHalves  whether the single part holds the official two halves in swapped order
     */
    record Mapping(List<String> parts, long[] rows, boolean swapHalves) {
    }

    private static final Pattern REFINER =
            Pattern.compile("txt_in\\.individual_token_refiner\\.blocks\\.(\\d+)\\.(.+)");
    private static final Pattern DOUBLE = Pattern.compile("double_blocks\\.(\\d+)\\.(.+)");
    private static final Pattern SINGLE = Pattern.compile("single_blocks\\.(\\d+)\\.(.+)");

    /** Plain prefix renames outside the blocks, first match wins. */
    private static final String[][] TOP = {
        {"img_in.proj.", "x_embedder.proj."},
        {"time_in.mlp.0.", "time_text_embed.timestep_embedder.linear_1."},
        {"time_in.mlp.2.", "time_text_embed.timestep_embedder.linear_2."},
        {"guidance_in.mlp.0.", "time_text_embed.guidance_embedder.linear_1."},
        {"guidance_in.mlp.2.", "time_text_embed.guidance_embedder.linear_2."},
        {"vector_in.in_layer.", "time_text_embed.text_embedder.linear_1."},
        {"vector_in.out_layer.", "time_text_embed.text_embedder.linear_2."},
        {"txt_in.input_embedder.", "context_embedder.proj_in."},
        {"txt_in.t_embedder.mlp.0.", "context_embedder.time_text_embed.timestep_embedder.linear_1."},
        {"txt_in.t_embedder.mlp.2.", "context_embedder.time_text_embed.timestep_embedder.linear_2."},
        {"txt_in.c_embedder.linear_1.", "context_embedder.time_text_embed.text_embedder.linear_1."},
        {"txt_in.c_embedder.linear_2.", "context_embedder.time_text_embed.text_embedder.linear_2."},
        {"final_layer.linear.", "proj_out."},
    };
    private static final String[][] REFINER_PARTS = {
        {"norm1.", "norm1."},
        {"self_attn_proj.", "attn.to_out.0."},
        {"norm2.", "norm2."},
        {"mlp.fc1.", "ff.net.0.proj."},
        {"mlp.fc2.", "ff.net.2."},
        {"adaLN_modulation.1.", "norm_out.linear."},
    };
    private static final String[][] DOUBLE_PARTS = {
        {"img_mod.linear.", "norm1.linear."},
        {"txt_mod.linear.", "norm1_context.linear."},
        {"img_attn_q_norm.", "attn.norm_q."},
        {"img_attn_k_norm.", "attn.norm_k."},
        {"txt_attn_q_norm.", "attn.norm_added_q."},
        {"txt_attn_k_norm.", "attn.norm_added_k."},
        {"img_attn_proj.", "attn.to_out.0."},
        {"txt_attn_proj.", "attn.to_add_out."},
        {"img_mlp.fc1.", "ff.net.0.proj."},
        {"img_mlp.fc2.", "ff.net.2."},
        {"txt_mlp.fc1.", "ff_context.net.0.proj."},
        {"txt_mlp.fc2.", "ff_context.net.2."},
    };
    private static final String[][] SINGLE_PARTS = {
        {"linear2.", "proj_out."},
        {"q_norm.", "attn.norm_q."},
        {"k_norm.", "attn.norm_k."},
        {"modulation.linear.", "norm.linear."},
    };

    private DiffusersNames() {
    }

    /**
     * Where official parameter {@code name} of dim-0 size {@code rows0} lives in a diffusers checkpoint.
     *
     * @param hidden the hidden size (the q/k/v part size of fused tensors)
     */
    static Mapping map(String name, long rows0, long hidden) {
        if (name.startsWith("final_layer.adaLN_modulation.1.")) {
            return new Mapping(List.of("norm_out.linear." + suffix(name, "final_layer.adaLN_modulation.1.")),
                    new long[]{rows0}, true);
        }
        for (String[] r : TOP) {
            if (name.startsWith(r[0])) {
                return plain(r[1] + name.substring(r[0].length()), rows0);
            }
        }
        Matcher m = REFINER.matcher(name);
        if (m.matches()) {
            String base = "context_embedder.token_refiner.refiner_blocks." + m.group(1) + ".";
            if (m.group(2).startsWith("self_attn_qkv.")) {
                return split(base, "attn.to_q.", "attn.to_k.", "attn.to_v.", suffix(m.group(2), "self_attn_qkv."),
                        hidden);
            }
            return inBlock(name, base, m.group(2), REFINER_PARTS, rows0);
        }
        m = DOUBLE.matcher(name);
        if (m.matches()) {
            String base = "transformer_blocks." + m.group(1) + ".";
            String rest = m.group(2);
            if (rest.startsWith("img_attn_qkv.")) {
                return split(base, "attn.to_q.", "attn.to_k.", "attn.to_v.", suffix(rest, "img_attn_qkv."), hidden);
            }
            if (rest.startsWith("txt_attn_qkv.")) {
                return split(base, "attn.add_q_proj.", "attn.add_k_proj.", "attn.add_v_proj.",
                        suffix(rest, "txt_attn_qkv."), hidden);
            }
            return inBlock(name, base, rest, DOUBLE_PARTS, rows0);
        }
        m = SINGLE.matcher(name);
        if (m.matches()) {
            String base = "single_transformer_blocks." + m.group(1) + ".";
            String rest = m.group(2);
            if (rest.startsWith("linear1.")) {
                String s = suffix(rest, "linear1.");
                return new Mapping(List.of(base + "attn.to_q." + s, base + "attn.to_k." + s, base + "attn.to_v." + s,
                        base + "proj_mlp." + s), new long[]{hidden, hidden, hidden, rows0 - 3 * hidden}, false);
            }
            return inBlock(name, base, rest, SINGLE_PARTS, rows0);
        }
        throw new IllegalArgumentException("no diffusers name for official parameter '" + name + "'");
    }

    /** The diffusers names and shapes of a model whose official parameters are {@code official}. */
    static Map<String, long[]> expectedShapes(Map<String, long[]> official, long hidden) {
        Map<String, long[]> out = new LinkedHashMap<>();
        official.forEach((name, shape) -> {
            Mapping m = map(name, shape[0], hidden);
            for (int i = 0; i < m.parts().size(); i++) {
                long[] s = shape.clone();
                s[0] = m.rows()[i];
                out.put(m.parts().get(i), s);
            }
        });
        return out;
    }

    private static Mapping plain(String name, long rows0) {
        return new Mapping(List.of(name), new long[]{rows0}, false);
    }

    private static Mapping split(String base, String q, String k, String v, String suffix, long hidden) {
        return new Mapping(List.of(base + q + suffix, base + k + suffix, base + v + suffix),
                new long[]{hidden, hidden, hidden}, false);
    }

    private static Mapping inBlock(String name, String base, String rest, String[][] table, long rows0) {
        for (String[] r : table) {
            if (rest.startsWith(r[0])) {
                return plain(base + r[1] + rest.substring(r[0].length()), rows0);
            }
        }
        throw new IllegalArgumentException("no diffusers name for official parameter '" + name + "'");
    }

    private static String suffix(String s, String prefix) {
        return s.substring(prefix.length());
    }
}
