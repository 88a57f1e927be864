package dev.gearbox.svf;

import dev.gearbox.gguf.GGUFFile;
import dev.gearbox.gguf.GGUFFormatException;
import dev.gearbox.gguf.TensorInfo;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Which weight matrices SVF adapts: the MLP's three projections, attention's four, or both, in
 * every layer. Names are the GGUF tensor names the engine loads ({@code blk.N.ffn_up.weight}).
 */
public enum MatrixSelection {
    MLP(List.of("ffn_gate", "ffn_up", "ffn_down")),
    ATTN(List.of("attn_q", "attn_k", "attn_v", "attn_output")),
    ALL(List.of("attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"));

    private final List<String> kinds;

    MatrixSelection(List<String> kinds) {
        this.kinds = kinds;
    }

    /** The name as written on the command line and in file metadata: {@code mlp}, {@code attn}, {@code all}. */
    public String label() { return name().toLowerCase(Locale.ROOT); }

    public static MatrixSelection parse(String s) {
        for (MatrixSelection m : values()) if (m.label().equals(s)) return m;
        throw new IllegalArgumentException("unknown matrix selection '" + s + "' (known: mlp, attn, all)");
    }

    /**
     * The selected tensors of {@code model}, layer by layer. Every one must be there and be a
     * matrix: SVF of a model with a missing projection would silently adapt less than asked.
     */
    public List<TensorInfo> tensors(GGUFFile model) throws GGUFFormatException {
        String arch = model.requireString("general.architecture");
        int layers = model.requireInt(arch + ".block_count", 1, 1024);
        List<TensorInfo> out = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
            for (String k : kinds) {
                String name = "blk." + i + "." + k + ".weight";
                TensorInfo t = model.tensor(name);
                if (t == null) throw new GGUFFormatException(model.path(), -1, "missing tensor '" + name + "'");
                if (t.shape().length != 2) {
                    throw new GGUFFormatException(model.path(), -1, "tensor '" + name + "' is not a matrix: shape " + java.util.Arrays.toString(t.shape()));
                }
                out.add(t);
            }
        }
        return out;
    }
}
