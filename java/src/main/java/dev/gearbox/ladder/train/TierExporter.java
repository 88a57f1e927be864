package dev.gearbox.ladder.train;

import dev.gearbox.gguf.GGUFValue;
import dev.gearbox.gguf.GGUFWriter;
import dev.gearbox.tensor.GGMLType;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Writes a tier trained by {@code scripts/train-ladder.py} as a llama GGUF through {@link GGUFWriter}:
 * llama.cpp's metadata keys and tensor names, F32 weights (the tiers are tiny), and the character
 * vocabulary as a SentencePiece ({@code llama}) tokenizer without space prefix.
 *
 * <p>Usage: {@code java -cp gearbox.jar dev.gearbox.ladder.train.TierExporter MANIFEST.json OUT.gguf [MANIFEST OUT ...]}
 */
public final class TierExporter {
    private TierExporter() {}

    public static void export(TierManifest m, Path out) throws IOException {
        GGUFWriter w = new GGUFWriter();
        String a = "llama.";
        w.putString("general.architecture", "llama");
        w.putString("general.name", m.name());
        w.putString("general.description", "Gearbox default ladder tier, trained by scripts/train-ladder.py (see models/MODEL_CARD.md)");
        w.putU32("general.file_type", 0); // all F32
        w.putU32(a + "vocab_size", m.tokens().size());
        w.putU32(a + "context_length", m.contextLength());
        w.putU32(a + "embedding_length", m.embeddingLength());
        w.putU32(a + "block_count", m.blockCount());
        w.putU32(a + "feed_forward_length", m.feedForwardLength());
        w.putU32(a + "attention.head_count", m.headCount());
        w.putU32(a + "attention.head_count_kv", m.headCountKv());
        w.putF32(a + "attention.layer_norm_rms_epsilon", m.rmsEps());
        w.putF32(a + "rope.freq_base", m.ropeFreqBase());
        w.putU32(a + "rope.dimension_count", m.headDim());
        int n = m.tokens().size();
        w.putString("tokenizer.ggml.model", "llama");
        w.put("tokenizer.ggml.tokens", GGUFValue.strings(m.tokens().toArray(String[]::new)));
        w.put("tokenizer.ggml.scores", GGUFValue.f32s(CharVocab.scores(n)));
        w.put("tokenizer.ggml.token_type", GGUFValue.i32s(CharVocab.types(n)));
        w.putU32("tokenizer.ggml.bos_token_id", CharVocab.BOS);
        w.putU32("tokenizer.ggml.eos_token_id", CharVocab.EOS);
        w.putU32("tokenizer.ggml.unknown_token_id", CharVocab.UNK);
        w.putBool("tokenizer.ggml.add_bos_token", true);
        w.putBool("tokenizer.ggml.add_eos_token", false);
        w.putBool("tokenizer.ggml.add_space_prefix", false);
        for (TierManifest.Tensor t : m.tensors().values()) {
            w.addTensor(t.name(), GGMLType.F32, t.shape(), out1 -> {
                // The .bin holds little-endian float32, which is F32's GGUF layout byte for byte.
                try (InputStream in = Files.newInputStream(m.dataFile())) {
                    in.skipNBytes(t.offset());
                    long left = 4 * t.elements();
                    byte[] buf = new byte[(int) Math.min(1 << 16, Math.max(1, left))];
                    while (left > 0) {
                        int got = in.read(buf, 0, (int) Math.min(buf.length, left));
                        if (got < 0) throw new IOException(m.dataFile() + ": ends inside tensor '" + t.name() + "'");
                        out1.write(buf, 0, got);
                        left -= got;
                    }
                }
            });
        }
        Path abs = out.toAbsolutePath();
        if (abs.getParent() != null) Files.createDirectories(abs.getParent());
        Path tmp = abs.resolveSibling(abs.getFileName() + ".tmp");
        try {
            w.write(tmp);
            Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    public static void main(String[] args) throws IOException {
        if (args.length == 0 || args.length % 2 != 0) {
            System.err.println("usage: TierExporter MANIFEST.json OUT.gguf [MANIFEST.json OUT.gguf ...]");
            System.exit(2);
        }
        for (int i = 0; i < args.length; i += 2) {
            try {
                TierManifest m = TierManifest.read(Path.of(args[i]));
                export(m, Path.of(args[i + 1]));
                System.out.println("exported " + m.name() + " -> " + args[i + 1] + " (" + Files.size(Path.of(args[i + 1])) + " bytes)");
            } catch (IOException | RuntimeException e) {
                System.err.println("export failed: " + e.getMessage());
                System.exit(1);
            }
        }
    }
}
