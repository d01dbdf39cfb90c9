package io.github.hunyuanvideo.dit;

import io.github.hunyuanvideo.io.Weights;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRef;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The test's own official → diffusers converter, written from the rename table of diffusers'
 * {@code convert_hunyuan_video_to_diffusers.py} independently of {@link DiffusersNames}: ordered substring renames,
 * then the fused-tensor splits and the final-layer half swap.
 */
final class OfficialToDiffusers {
    private static final String[][] RENAMES = {
        {"img_in.proj", "x_embedder.proj"},
        {"time_in.mlp.0", "time_text_embed.timestep_embedder.linear_1"},
        {"time_in.mlp.2", "time_text_embed.timestep_embedder.linear_2"},
        {"guidance_in.mlp.0", "time_text_embed.guidance_embedder.linear_1"},
        {"guidance_in.mlp.2", "time_text_embed.guidance_embedder.linear_2"},
        {"vector_in.in_layer", "time_text_embed.text_embedder.linear_1"},
        {"vector_in.out_layer", "time_text_embed.text_embedder.linear_2"},
        {"double_blocks", "transformer_blocks"},
        {"img_attn_q_norm", "attn.norm_q"},
        {"img_attn_k_norm", "attn.norm_k"},
        {"img_attn_proj", "attn.to_out.0"},
        {"txt_attn_q_norm", "attn.norm_added_q"},
        {"txt_attn_k_norm", "attn.norm_added_k"},
        {"txt_attn_proj", "attn.to_add_out"},
        {"img_mod.linear", "norm1.linear"},
        {"txt_mod.linear", "norm1_context.linear"},
        {"img_mlp.fc1", "ff.net.0.proj"},
        {"img_mlp.fc2", "ff.net.2"},
        {"txt_mlp.fc1", "ff_context.net.0.proj"},
        {"txt_mlp.fc2", "ff_context.net.2"},
        {"single_blocks", "single_transformer_blocks"},
        {"q_norm", "attn.norm_q"},
        {"k_norm", "attn.norm_k"},
        {"linear2", "proj_out"},
        {"modulation.linear", "norm.linear"},
        {"txt_in.individual_token_refiner.blocks", "context_embedder.token_refiner.refiner_blocks"},
        {"mlp.fc1", "ff.net.0.proj"},
        {"mlp.fc2", "ff.net.2"},
        {"self_attn_proj", "attn.to_out.0"},
        {"adaLN_modulation.1", "norm_out.linear"},
        {"txt_in.t_embedder.mlp.0", "context_embedder.time_text_embed.timestep_embedder.linear_1"},
        {"txt_in.t_embedder.mlp.2", "context_embedder.time_text_embed.timestep_embedder.linear_2"},
        {"txt_in.c_embedder", "context_embedder.time_text_embed.text_embedder"},
        {"txt_in.input_embedder", "context_embedder.proj_in"},
    };
    private static final Pattern FUSED = Pattern.compile("(.*)\\.(img_attn_qkv|txt_attn_qkv|self_attn_qkv|linear1)"
            + "\\.(weight|bias)");

    private OfficialToDiffusers() {
    }

    /** The tensors of {@code official} under diffusers names, as a new in-memory checkpoint. */
    static MemorySource convert(Weights official, long hidden) {
        MemorySource out = new MemorySource();
        for (String name : official.names()) {
            Tensor t = official.get(name);
            Matcher m = FUSED.matcher(name);
            if (m.matches()) {
                String block = rename(m.group(1));
                String kind = m.group(2);
                String suffix = "." + m.group(3);
                String[] parts = switch (kind) {
                    case "txt_attn_qkv" -> new String[]{"attn.add_q_proj", "attn.add_k_proj", "attn.add_v_proj"};
                    case "linear1" -> new String[]{"attn.to_q", "attn.to_k", "attn.to_v", "proj_mlp"};
                    default -> new String[]{"attn.to_q", "attn.to_k", "attn.to_v"};
                };
                for (int i = 0; i < parts.length; i++) {
                    long rows = i < 3 ? hidden : t.size(0) - 3 * hidden;
                    out.put(block + "." + parts[i] + suffix, t.narrow(0, i * hidden, rows));
                }
            } else if (name.startsWith("final_layer.adaLN_modulation.1.")) {
                long half = t.size(0) / 2;
                out.put("norm_out.linear." + name.substring(name.lastIndexOf('.') + 1),
                        torch.cat(new TensorArrayRef(new TensorVector(t.narrow(0, half, half), t.narrow(0, 0, half))),
                                0));
            } else if (name.startsWith("final_layer.linear.")) {
                out.put("proj_out." + name.substring(name.lastIndexOf('.') + 1), t);
            } else {
                out.put(rename(name), t);
            }
        }
        return out;
    }

    private static String rename(String name) {
        String n = name;
        for (String[] r : RENAMES) {
            n = n.replace(r[0], r[1]);
        }
        return n;
    }
}
