package dev.gearbox.generate;

import dev.gearbox.tokenizer.Tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A tiny hand-made model for generation tests: a vocabulary of byte strings and a "network" that
 * always predicts the next token of a fixed script (the logit of the scripted token is highest).
 */
final class FakeModel {
    static final int BOS = 0, EOS = 1, CONTROL = 2;

    final List<byte[]> vocab = new ArrayList<>();

    FakeModel(String... texts) {
        vocab.add("<s>".getBytes(StandardCharsets.UTF_8));
        vocab.add("</s>".getBytes(StandardCharsets.UTF_8));
        vocab.add("<|ctl|>".getBytes(StandardCharsets.UTF_8));
        for (String t : texts) vocab.add(t.getBytes(StandardCharsets.UTF_8));
    }

    /** Adds a token of raw bytes (e.g. part of a UTF-8 character) and returns its id. */
    int addBytes(int... bytes) {
        byte[] b = new byte[bytes.length];
        for (int i = 0; i < b.length; i++) b[i] = (byte) bytes[i];
        vocab.add(b);
        return vocab.size() - 1;
    }

    int id(String text) {
        for (int i = 0; i < vocab.size(); i++) {
            if (new String(vocab.get(i), StandardCharsets.UTF_8).equals(text)) return i;
        }
        throw new IllegalArgumentException("no token " + text);
    }

    int[] ids(String... texts) {
        int[] out = new int[texts.length];
        for (int i = 0; i < texts.length; i++) out[i] = id(texts[i]);
        return out;
    }

    Tokenizer tokenizer() {
        return new Tokenizer() {
            public int vocabSize() { return vocab.size(); }
            public int[] encode(String text, boolean addSpecial, boolean parseSpecial) { throw new UnsupportedOperationException(); }
            public byte[] tokenBytes(int id) { return vocab.get(id).clone(); }
            public String decode(int[] ids) {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                for (int id : ids) out.writeBytes(vocab.get(id));
                return out.toString(StandardCharsets.UTF_8);
            }
            public String tokenText(int id) { return new String(vocab.get(id), StandardCharsets.UTF_8); }
            public int bos() { return BOS; }
            public int eos() { return EOS; }
            public boolean isEndOfGeneration(int id) { return id == EOS; }
            public boolean isControl(int id) { return id <= CONTROL; }
        };
    }

    /** A sequence that, after any input, predicts script[k] as its k-th output. */
    Scripted sequence(int capacity, int... script) {
        return new Scripted(capacity, script);
    }

    final class Scripted implements LogitSource {
        final int capacity;
        final int[] script;
        final List<int[]> calls = new ArrayList<>();
        int position;
        /** When set, the sequence says it chooses on a device (generation then calls forwardChoose). */
        boolean onDevice;
        int chooseCalls;

        @Override
        public boolean choosesOnDevice() { return onDevice; }

        @Override
        public dev.gearbox.sample.TokenChoice.Choice forwardChoose(int[] tokens, dev.gearbox.sample.TokenChoice choice, int step) {
            chooseCalls++;
            return LogitSource.super.forwardChoose(tokens, choice, step);
        }

        Scripted(int capacity, int[] script) {
            this.capacity = capacity;
            this.script = script;
        }

        public int position() { return position; }
        public int capacity() { return capacity; }

        public void truncate(int n) {
            if (n < 0 || n > position) throw new IllegalArgumentException("cannot truncate to " + n);
            position = n;
        }

        public float[] forward(int[] tokens) {
            if (position + tokens.length > capacity) throw new IllegalArgumentException("context full");
            calls.add(tokens.clone());
            position += tokens.length;
            float[] logits = new float[vocab.size()];
            int next = script[Math.min(calls.size() - 1, script.length - 1)];
            logits[next] = 10f;
            return logits;
        }
    }
}
