package dev.gearbox.model;

import dev.gearbox.backend.Backend;
import dev.gearbox.backend.KVCache;
import dev.gearbox.backend.Rope;
import dev.gearbox.backend.cpu.CpuBackend;
import dev.gearbox.gguf.GGUFFile;
import dev.gearbox.gguf.TensorInfo;
import dev.gearbox.gguf.synth.SyntheticModel;
import dev.gearbox.sample.TokenChoice;
import dev.gearbox.tensor.GGMLType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The forward pass tells its backend where each step starts and ends: one scope per forward
 * (prefill, decode, batched), holding every op of it, from the embedding through the output norm
 * and the vocabulary projection to the read or the token choice, with the step's row count.
 */
class StepScopeTest {
    private static final TokenChoice GREEDY = new TokenChoice(0f, 0, 1f, 0f, 0);

    /** The CPU backend, logging each op and whether a scope was open around it. */
    static final class ScopeLog implements Backend {
        final CpuBackend cpu = new CpuBackend();
        final List<String> events = new ArrayList<>();
        int open; // depth: must stay 0 or 1

        private void op(String name) { events.add(open == 1 ? name : name + " OUTSIDE"); }

        @Override public StepScope openStep(int rows) {
            open++;
            events.add("open " + rows + (open > 1 ? " NESTED" : ""));
            return () -> {
                open--;
                events.add("close");
            };
        }

        @Override public String name() { return "scope-log"; }
        @Override public Weight load(GGUFFile file, TensorInfo tensor) { return cpu.load(file, tensor); }
        @Override public Weight upload(String name, float[] rowMajor, int rows, int cols) { return cpu.upload(name, rowMajor, rows, cols); }
        @Override public Buffer allocate(long floats) { return cpu.allocate(floats); }
        @Override public void embed(Weight table, int[] tokens, Buffer out) { op("embed"); cpu.embed(table, tokens, out); }
        @Override public void matmul(Weight w, Buffer x, int n, Buffer out) {
            op(w.info().name().equals("output.weight") || w.info().name().equals("token_embd.weight") ? "output" : "matmul");
            cpu.matmul(w, x, n, out);
        }
        @Override public void matmulRows(Weight w, Buffer x, int row0, int n, Buffer out) { op("matmul"); cpu.matmulRows(w, x, row0, n, out); }
        @Override public void addRows(Buffer x, Buffer y, int row0, int n, int dim) { op("add"); cpu.addRows(x, y, row0, n, dim); }
        @Override public void addBias(Buffer x, Weight b, int n, int dim) { op("add_bias"); cpu.addBias(x, b, n, dim); }
        @Override public void rmsNorm(Buffer in, Buffer out, Weight gain, int rows, int dim, float eps) {
            op(gain.info().name().equals("output_norm.weight") ? "output_norm" : "rms_norm");
            cpu.rmsNorm(in, out, gain, rows, dim, eps);
        }
        @Override public void rope(Buffer x, int n, int heads, int headDim, int pos0, Rope rope) { op("rope"); cpu.rope(x, n, heads, headDim, pos0, rope); }
        @Override public void storeKV(KVCache cache, int layer, Buffer k, Buffer v, int n, int pos0) { op("store_kv"); cpu.storeKV(cache, layer, k, v, n, pos0); }
        @Override public void attention(KVCache cache, int layer, Buffer q, int n, int pos0, int heads, int kvHeads, int headDim, float scale, Buffer out) {
            op("attention");
            cpu.attention(cache, layer, q, n, pos0, heads, kvHeads, headDim, scale, out);
        }
        @Override public void swiglu(Buffer gate, Buffer up, long count) { op("swiglu"); cpu.swiglu(gate, up, count); }
        @Override public void add(Buffer x, Buffer y, long count) { op("add"); cpu.add(x, y, count); }
        @Override public void copy(Buffer src, long srcOff, Buffer dst, long dstOff, long count) { op("copy"); cpu.copy(src, srcOff, dst, dstOff, count); }
        @Override public void read(Buffer b, long offset, float[] dst, int dstOff, int count) { op("read"); cpu.read(b, offset, dst, dstOff, count); }
        @Override public TokenChoice.Choice choose(Buffer logits, long offset, int n, TokenChoice choice, int step) {
            op("choose");
            return cpu.choose(logits, offset, n, choice, step);
        }
        @Override public TokenChoice.Choice[] chooseRows(Buffer logits, int n, int[] rows, TokenChoice[] choices, int[] draws) {
            op("choose_rows");
            return cpu.chooseRows(logits, n, rows, choices, draws);
        }
        @Override public KVCache allocateKV(int layers, int capacity, int kvDim) { return cpu.allocateKV(layers, capacity, kvDim); }
        @Override public void copyKV(KVCache src, int srcPos, KVCache dst, int dstPos, int n) { cpu.copyKV(src, srcPos, dst, dstPos, n); }
        @Override public void close() { cpu.close(); }

        /** The events from the last "open", with the ops of the layers left out. */
        List<String> lastStep() {
            int from = events.size() - 1;
            while (!events.get(from).startsWith("open")) from--;
            return events.subList(from, events.size()).stream()
                    .filter(e -> !e.matches("(rms_norm|matmul|add_bias|rope|store_kv|attention|swiglu|add)"))
                    .toList();
        }
    }

    @Test
    void everyForwardIsOneScopeFromTheEmbeddingToTheReadOrChoice(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("m.gguf");
        SyntheticModel.builder().arch("qwen3").embeddingLength(64).layers(2).heads(4).kvHeads(2).feedForward(96)
                .vocab(300).contextLength(64).weightType(GGMLType.F32).seed(3).build().write(file);
        ScopeLog be = new ScopeLog();
        try (Model m = Model.load(file, be); Sequence a = m.newSequence(32); Sequence b = m.newSequence(32)) {
            a.forward(new int[] {1, 2, 3});
            assertThat(be.lastStep()).containsExactly("open 3", "embed", "output_norm", "copy", "output", "read", "close");
            a.forward(new int[] {4});
            assertThat(be.lastStep()).containsExactly("open 1", "embed", "output_norm", "output", "read", "close");
            a.forwardChoose(new int[] {5}, GREEDY, 1);
            assertThat(be.lastStep()).containsExactly("open 1", "embed", "output_norm", "output", "choose", "close");
            a.forwardWithHidden(new int[] {6});
            assertThat(be.lastStep()).containsExactly("open 1", "embed", "output_norm", "read", "output", "read", "close");

            BatchStep step = m.newBatchStep();
            step.step(List.of(b), new int[][] {{7}}, new TokenChoice[] {GREEDY}, new int[] {1});
            assertThat(be.lastStep()).as("a batched step of one token is a decode step too")
                    .containsExactly("open 1", "embed", "copy", "output_norm", "output", "choose_rows", "close");
            step.step(List.of(a, b), new int[][] {{8}, {9, 10}});
            assertThat(be.lastStep().get(0)).isEqualTo("open 3");
            assertThat(be.lastStep()).endsWith("output", "read", "read", "close");
        }
        assertThat(be.events).noneMatch(e -> e.endsWith("OUTSIDE") || e.endsWith("NESTED"));
        assertThat(be.open).isZero();
    }

    @Test
    void theCpuScopeIsOneSharedInstance() {
        try (CpuBackend cpu = new CpuBackend()) {
            assertThat(cpu.openStep(1)).isSameAs(cpu.openStep(512)).isSameAs(Backend.StepScope.NONE);
        }
    }
}
