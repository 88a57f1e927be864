package dev.gearbox.gguf.synth;

import dev.gearbox.gguf.GGUFFile;
import dev.gearbox.gguf.GGUFValue;
import dev.gearbox.gguf.GGUFValueType;
import dev.gearbox.gguf.GGUFWriter;
import dev.gearbox.tensor.GGMLType;
import dev.gearbox.tensor.Quantizer;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * A randomly initialised llama / qwen2 / qwen3 model written as a GGUF that both Gearbox and
 * llama.cpp load: llama.cpp's metadata keys and tensor names, shapes in GGML order (innermost
 * first), a real SentencePiece-style vocabulary ({@link SyntheticVocab}). 2-D matrices use the
 * chosen weight type; 1-D norms and biases stay F32 as llama.cpp's converter keeps them.
 *
 * <p>{@link Builder#vocabFrom} swaps the synthetic vocabulary for a real one: every {@code tokenizer.*}
 * key of an existing GGUF (tokens, scores, types, merges, pre-tokenizer, special ids, chat templates)
 * is copied and the embedding and output matrices are sized to it, giving a model with random weights
 * that tokenizes and formats chats exactly as the real model does.
 *
 * <p>Weights are N(0, 0.02) (output projections scaled by 1/sqrt(2 n_layer) so the residual stream
 * grows slowly through deep stacks), norm gains are 1 + N(0, 0.02). Each tensor draws from its own
 * generator seeded by (seed, tensor name), so a file is a pure function of its spec, and tensor
 * data is generated row-block by row-block while the file is written: even 1B-parameter models
 * never sit in memory whole.
 *
 * <p>Llama-3 rope scaling is stored the way llama.cpp's converter stores it: as the
 * {@code rope_freqs.weight} tensor of per-frequency divisors. llama.cpp has no metadata keys for
 * it, and writing {@code rope.scaling.factor} would make llama.cpp apply linear scaling on top.
 */
public final class SyntheticModel {
    public static final double INIT_STD = 0.02;

    public enum Arch {
        LLAMA, QWEN2, QWEN3;

        public String ggufName() { return name().toLowerCase(Locale.ROOT); }

        public static Arch parse(String s) {
            for (Arch a : values()) if (a.ggufName().equalsIgnoreCase(s)) return a;
            throw new IllegalArgumentException("unknown architecture '" + s + "' (expected llama, qwen2 or qwen3)");
        }
    }

    /** Llama 3.1-style frequency-dependent rope scaling. */
    public record Llama3RopeScaling(double factor, double lowFreqFactor, double highFreqFactor, int originalContextLength) {
        public Llama3RopeScaling {
            if (!(factor >= 1) || !(lowFreqFactor > 0) || !(highFreqFactor > lowFreqFactor) || originalContextLength <= 0) {
                throw new IllegalArgumentException("bad Llama-3 rope scaling " + factor + "/" + lowFreqFactor + "/" + highFreqFactor + "/" + originalContextLength);
            }
        }

        /** Meta's Llama 3.1/3.2 values. */
        public static Llama3RopeScaling llama31(double factor) {
            return new Llama3RopeScaling(factor, 1, 4, 8192);
        }
    }

    /** One tensor of the model: name, GGML-order shape, storage type. */
    public record TensorSpec(String name, long[] shape, GGMLType type) {
        public long elements() {
            long n = 1;
            for (long d : shape) n *= d;
            return n;
        }
    }

    private final Builder b;
    private final List<TensorSpec> tensors;

    private SyntheticModel(Builder b) {
        this.b = b;
        this.tensors = Collections.unmodifiableList(layout());
    }

    public static Builder builder() { return new Builder(); }

    public Arch arch() { return b.arch; }
    public int headDim() { return b.headDim > 0 ? b.headDim : b.nEmbd / b.nHead; }
    public GGMLType weightType() { return b.weightType; }
    public GGMLType embeddingType() { return b.embeddingType != null ? b.embeddingType : b.weightType; }
    public List<TensorSpec> tensors() { return tensors; }

    public long parameterCount() {
        long n = 0;
        for (TensorSpec t : tensors) n += t.elements();
        return n;
    }

    private List<TensorSpec> layout() {
        int e = b.nEmbd, hd = headDim(), q = hd * b.nHead, kv = hd * b.nHeadKv, ff = b.nFf, v = b.vocab;
        GGMLType w = b.weightType, f32 = GGMLType.F32;
        List<TensorSpec> out = new ArrayList<>();
        out.add(new TensorSpec("token_embd.weight", new long[] {e, v}, embeddingType()));
        if (b.ropeScaling != null) out.add(new TensorSpec("rope_freqs.weight", new long[] {hd / 2}, f32));
        for (int i = 0; i < b.nLayer; i++) {
            String p = "blk." + i + ".";
            out.add(new TensorSpec(p + "attn_norm.weight", new long[] {e}, f32));
            out.add(new TensorSpec(p + "attn_q.weight", new long[] {e, q}, w));
            out.add(new TensorSpec(p + "attn_k.weight", new long[] {e, kv}, w));
            out.add(new TensorSpec(p + "attn_v.weight", new long[] {e, kv}, w));
            if (b.arch == Arch.QWEN2) {
                out.add(new TensorSpec(p + "attn_q.bias", new long[] {q}, f32));
                out.add(new TensorSpec(p + "attn_k.bias", new long[] {kv}, f32));
                out.add(new TensorSpec(p + "attn_v.bias", new long[] {kv}, f32));
            }
            if (b.arch == Arch.QWEN3) {
                out.add(new TensorSpec(p + "attn_q_norm.weight", new long[] {hd}, f32));
                out.add(new TensorSpec(p + "attn_k_norm.weight", new long[] {hd}, f32));
            }
            out.add(new TensorSpec(p + "attn_output.weight", new long[] {q, e}, w));
            out.add(new TensorSpec(p + "ffn_norm.weight", new long[] {e}, f32));
            out.add(new TensorSpec(p + "ffn_gate.weight", new long[] {e, ff}, w));
            out.add(new TensorSpec(p + "ffn_up.weight", new long[] {e, ff}, w));
            out.add(new TensorSpec(p + "ffn_down.weight", new long[] {ff, e}, w));
        }
        out.add(new TensorSpec("output_norm.weight", new long[] {e}, f32));
        if (!b.tiedOutput) out.add(new TensorSpec("output.weight", new long[] {e, v}, w));
        for (TensorSpec t : out) {
            if (t.shape[0] % t.type.blockSize() != 0) {
                throw new IllegalArgumentException(t.name + " has rows of " + t.shape[0] + " values, not a multiple of " + t.type
                        + "'s block size " + t.type.blockSize() + ": choose dimensions divisible by " + t.type.blockSize() + " or another type");
            }
        }
        return out;
    }

    /** The complete GGUF (metadata and lazily generated tensors), ready to write. */
    public GGUFWriter toWriter() {
        GGUFWriter w = new GGUFWriter();
        String a = b.arch.ggufName();
        w.putString("general.architecture", a);
        w.putString("general.name", b.name != null ? b.name : "synthetic-" + a + "-" + b.nEmbd + "x" + b.nLayer + "-seed" + b.seed);
        w.putU32("general.file_type", fileType(b.weightType));
        if (b.weightType.quantized()) w.putU32("general.quantization_version", 2);
        w.putU32(a + ".vocab_size", b.vocab);
        w.putU32(a + ".context_length", b.contextLength);
        w.putU32(a + ".embedding_length", b.nEmbd);
        w.putU32(a + ".block_count", b.nLayer);
        w.putU32(a + ".feed_forward_length", b.nFf);
        w.putU32(a + ".attention.head_count", b.nHead);
        w.putU32(a + ".attention.head_count_kv", b.nHeadKv);
        w.putF32(a + ".attention.layer_norm_rms_epsilon", b.rmsEps);
        w.putF32(a + ".rope.freq_base", b.ropeBase);
        w.putU32(a + ".rope.dimension_count", headDim());
        // Qwen3 checkpoints decouple head size from n_embd / n_head, so always state it there.
        if (b.arch == Arch.QWEN3 || headDim() * b.nHead != b.nEmbd) {
            w.putU32(a + ".attention.key_length", headDim());
            w.putU32(a + ".attention.value_length", headDim());
        }
        if (b.vocabFrom != null) {
            b.vocabFrom.forEach(w::put);
            for (TensorSpec t : tensors) w.addTensor(t.name, t.type, t.shape, out -> generate(t, out));
            return w;
        }
        SyntheticVocab vocab = new SyntheticVocab(b.vocab);
        w.putString("tokenizer.ggml.model", "llama");
        w.put("tokenizer.ggml.tokens", GGUFValue.strings(vocab.tokens()));
        w.put("tokenizer.ggml.scores", GGUFValue.f32s(vocab.scores()));
        w.put("tokenizer.ggml.token_type", GGUFValue.ints(GGUFValueType.INT32, vocab.types()));
        w.putU32("tokenizer.ggml.bos_token_id", SyntheticVocab.BOS_ID);
        w.putU32("tokenizer.ggml.eos_token_id", SyntheticVocab.EOS_ID);
        w.putU32("tokenizer.ggml.unknown_token_id", SyntheticVocab.UNK_ID);
        w.putBool("tokenizer.ggml.add_bos_token", true);
        w.putBool("tokenizer.ggml.add_eos_token", false);
        for (TensorSpec t : tensors) w.addTensor(t.name, t.type, t.shape, out -> generate(t, out));
        return w;
    }

    /** Writes the model to {@code path} (via a temporary file, so a failure leaves no half-written model). */
    public void write(Path path) throws IOException {
        Path abs = path.toAbsolutePath();
        if (abs.getParent() != null) Files.createDirectories(abs.getParent());
        Path tmp = abs.resolveSibling(abs.getFileName() + ".tmp");
        try {
            toWriter().write(tmp);
            Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private void generate(TensorSpec t, OutputStream out) throws IOException {
        SplittableRandom r = new SplittableRandom(b.seed ^ fnv64(t.name));
        if (t.name.equals("rope_freqs.weight")) {
            out.write(Quantizer.quantize(GGMLType.F32, ropeFactors()));
            return;
        }
        boolean norm = t.name.endsWith("norm.weight");
        double std = t.name.endsWith("attn_output.weight") || t.name.endsWith("ffn_down.weight")
                ? INIT_STD / Math.sqrt(2.0 * b.nLayer) : INIT_STD;
        long rowLen = t.shape[0];
        long rows = t.elements() / Math.max(1, rowLen);
        // Whole rows per chunk (quantization blocks never straddle rows), about 1M values at a time.
        long rowsPerChunk = Math.max(1, Math.min(rows, (1L << 20) / Math.max(1, rowLen)));
        for (long row = 0; row < rows; row += rowsPerChunk) {
            int n = (int) (Math.min(rowsPerChunk, rows - row) * rowLen);
            float[] vals = new float[n];
            for (int i = 0; i < n; i++) vals[i] = (float) ((norm ? 1.0 : 0.0) + std * r.nextGaussian());
            out.write(Quantizer.quantize(t.type, vals));
        }
    }

    /** Per-frequency rope divisors for Llama-3 scaling, one per rotated pair. */
    float[] ropeFactors() {
        Llama3RopeScaling s = b.ropeScaling;
        int hd = headDim();
        float[] f = new float[hd / 2];
        double lowWavelen = s.originalContextLength() / s.lowFreqFactor();
        double highWavelen = s.originalContextLength() / s.highFreqFactor();
        for (int i = 0; i < f.length; i++) {
            double freq = 1.0 / Math.pow(b.ropeBase, (2.0 * i) / hd);
            double wavelen = 2 * Math.PI / freq;
            if (wavelen < highWavelen) f[i] = 1;                         // high frequencies: unchanged
            else if (wavelen > lowWavelen) f[i] = (float) s.factor();      // low frequencies: fully scaled
            else {                                                          // smooth blend in between
                double smooth = (s.originalContextLength() / wavelen - s.lowFreqFactor()) / (s.highFreqFactor() - s.lowFreqFactor());
                f[i] = (float) (1 / ((1 - smooth) / s.factor() + smooth));
            }
        }
        return f;
    }

    /** llama.cpp's llama_ftype for a file whose matrices are {@code t}. */
    static long fileType(GGMLType t) {
        return switch (t) {
            case F32 -> 0;
            case F16 -> 1;
            case Q4_0 -> 2;
            case Q4_1 -> 3;
            case Q8_0 -> 7;
            case Q5_0 -> 8;
            case Q5_1 -> 9;
            case Q2_K -> 10;
            case Q3_K -> 12;  // Q3_K_M
            case Q4_K -> 15;  // Q4_K_M
            case Q5_K -> 17;  // Q5_K_M
            case Q6_K -> 18;
            case BF16 -> 32;
            default -> 1024;  // LLAMA_FTYPE_GUESSED: informational only, llama.cpp reads the tensor types
        };
    }

    private static long fnv64(String s) {
        long h = 0xcbf29ce484222325L;
        for (byte x : s.getBytes(StandardCharsets.UTF_8)) { h ^= x & 0xFF; h *= 0x100000001b3L; }
        return h;
    }

    public static final class Builder {
        private Arch arch = Arch.LLAMA;
        private int nEmbd = 256, nLayer = 2, nHead = 4, nHeadKv = 4, nFf = 512, vocab = 512, contextLength = 2048, headDim;
        private double ropeBase = 10000, rmsEps = 1e-5;
        private Llama3RopeScaling ropeScaling;
        private boolean tiedOutput;
        private GGMLType weightType = GGMLType.F32, embeddingType;
        private long seed;
        private String name;
        private Map<String, GGUFValue> vocabFrom;

        public Builder arch(Arch v) { arch = v; return this; }

        /**
         * Takes the vocabulary (every {@code tokenizer.*} key) from existing GGUF metadata instead of the
         * synthetic one; the vocabulary size becomes its token count.
         */
        public Builder vocabFrom(Map<String, GGUFValue> metadata) {
            Map<String, GGUFValue> tok = new TreeMap<>();
            metadata.forEach((k, v) -> { if (k.startsWith("tokenizer.")) tok.put(k, v); });
            GGUFValue tokens = tok.get("tokenizer.ggml.tokens");
            if (tokens == null || !(tokens.value() instanceof String[] t) || t.length == 0) {
                throw new IllegalArgumentException("the vocabulary source has no tokenizer.ggml.tokens");
            }
            vocabFrom = tok;
            vocab = t.length;
            return this;
        }

        /** {@link #vocabFrom(Map)} with the metadata of the GGUF file at {@code path} (a model or a vocab-only file). */
        public Builder vocabFrom(Path path) throws IOException {
            try (GGUFFile f = GGUFFile.open(path)) {
                return vocabFrom(f.metadata());
            }
        }
        public Builder arch(String v) { arch = Arch.parse(v); return this; }
        public Builder embeddingLength(int v) { nEmbd = v; return this; }
        public Builder layers(int v) { nLayer = v; return this; }
        public Builder heads(int v) { nHead = v; return this; }
        public Builder kvHeads(int v) { nHeadKv = v; return this; }
        public Builder feedForward(int v) { nFf = v; return this; }
        public Builder vocab(int v) { vocab = v; return this; }
        public Builder contextLength(int v) { contextLength = v; return this; }
        /** Head size when it is not n_embd / n_head (Qwen3 style); 0 for the default. */
        public Builder headDim(int v) { headDim = v; return this; }
        public Builder ropeBase(double v) { ropeBase = v; return this; }
        public Builder rmsEps(double v) { rmsEps = v; return this; }
        public Builder llama3RopeScaling(Llama3RopeScaling v) { ropeScaling = v; return this; }
        public Builder tiedOutput(boolean v) { tiedOutput = v; return this; }
        /** Type of every 2-D matrix (and of token_embd unless {@link #embeddingType} says otherwise). */
        public Builder weightType(GGMLType v) { weightType = v; return this; }
        public Builder embeddingType(GGMLType v) { embeddingType = v; return this; }
        public Builder seed(long v) { seed = v; return this; }
        public Builder name(String v) { name = v; return this; }

        public SyntheticModel build() {
            positive("n_embd", nEmbd);
            positive("n_layer", nLayer);
            positive("n_head", nHead);
            positive("n_head_kv", nHeadKv);
            positive("n_ff", nFf);
            positive("context_length", contextLength);
            if (headDim < 0) throw new IllegalArgumentException("head_dim must be positive, got " + headDim);
            if (headDim == 0 && nEmbd % nHead != 0) {
                throw new IllegalArgumentException("n_embd " + nEmbd + " is not divisible by n_head " + nHead + " (or give a head_dim)");
            }
            if (nHead % nHeadKv != 0) throw new IllegalArgumentException("n_head " + nHead + " is not a multiple of n_head_kv " + nHeadKv);
            int hd = headDim > 0 ? headDim : nEmbd / nHead;
            if (arch == Arch.QWEN2 && hd * nHead != nEmbd) {
                throw new IllegalArgumentException("qwen2 needs head_dim * n_head == n_embd (llama.cpp sizes its q bias by n_embd)");
            }
            if (hd % 2 != 0) throw new IllegalArgumentException("head size " + hd + " must be even for rope");
            if (ropeScaling != null && arch != Arch.LLAMA) throw new IllegalArgumentException("Llama-3 rope scaling only applies to arch llama");
            if (!(ropeBase > 0)) throw new IllegalArgumentException("rope base must be positive, got " + ropeBase);
            if (!(rmsEps > 0)) throw new IllegalArgumentException("rms epsilon must be positive, got " + rmsEps);
            if (vocabFrom != null && vocab != ((String[]) vocabFrom.get("tokenizer.ggml.tokens").value()).length) {
                throw new IllegalArgumentException("vocab " + vocab + " differs from the " + ((String[]) vocabFrom.get("tokenizer.ggml.tokens").value()).length
                        + " tokens of the vocabulary it is taken from");
            }
            if (vocabFrom == null && vocab < SyntheticVocab.MIN_SIZE) {
                throw new IllegalArgumentException("vocab " + vocab + " is below the minimum " + SyntheticVocab.MIN_SIZE + " (3 specials + 256 byte tokens)");
            }
            requireQuantizer(weightType);
            if (embeddingType != null) requireQuantizer(embeddingType);
            long params = (long) nEmbd * vocab * (tiedOutput ? 1 : 2) + (long) nLayer * ((long) nEmbd * hd * (2L * nHead + 2L * nHeadKv) + 3L * nEmbd * nFf);
            if (params > 200_000_000_000L) throw new IllegalArgumentException("refusing to generate " + params + " parameters");
            return new SyntheticModel(this);
        }

        private static void positive(String what, int v) {
            if (v <= 0) throw new IllegalArgumentException(what + " must be positive, got " + v);
        }

        private static void requireQuantizer(GGMLType t) {
            try {
                Quantizer.quantize(t, new float[t.blockSize()]);
            } catch (UnsupportedOperationException e) {
                throw new IllegalArgumentException("no quantizer for weight type " + t + " yet", e);
            }
        }
    }

    /** Named starting points; callers may override any field afterwards. */
    public static Builder preset(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            // Small enough for unit tests, with dimensions divisible by 256 so every quantized type works.
            case "tiny" -> builder().arch(Arch.LLAMA).embeddingLength(256).layers(2).heads(4).kvHeads(2).feedForward(512)
                    .vocab(512).contextLength(512);
            case "tiny-qwen2" -> preset("tiny").arch(Arch.QWEN2).ropeBase(1_000_000).rmsEps(1e-6);
            case "tiny-qwen3" -> preset("tiny").arch(Arch.QWEN3).headDim(128).ropeBase(1_000_000).rmsEps(1e-6).tiedOutput(true);
            // llama2.c's stories110M shape.
            case "110m" -> builder().arch(Arch.LLAMA).embeddingLength(768).layers(12).heads(12).kvHeads(12).feedForward(2048)
                    .vocab(32000).contextLength(1024);
            // Llama-3.2-1B's shape (with a synthetic 32000-token SPM vocabulary instead of its 128256-token BPE).
            case "1b" -> builder().arch(Arch.LLAMA).embeddingLength(2048).layers(16).heads(32).kvHeads(8).feedForward(8192)
                    .vocab(32000).contextLength(8192).ropeBase(500_000).tiedOutput(true)
                    .llama3RopeScaling(Llama3RopeScaling.llama31(32));
            // Qwen3-0.6B's shape (synthetic vocabulary).
            case "qwen3-0.6b" -> builder().arch(Arch.QWEN3).embeddingLength(1024).layers(28).heads(16).kvHeads(8).headDim(128)
                    .feedForward(3072).vocab(32000).contextLength(4096).ropeBase(1_000_000).rmsEps(1e-6).tiedOutput(true);
            default -> throw new IllegalArgumentException("unknown preset '" + name + "' (known: " + String.join(", ", PRESETS) + ")");
        };
    }

    public static final List<String> PRESETS = List.of("tiny", "tiny-qwen2", "tiny-qwen3", "110m", "1b", "qwen3-0.6b");
}
