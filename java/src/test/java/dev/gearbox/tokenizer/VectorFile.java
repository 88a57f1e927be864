package dev.gearbox.tokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * llama.cpp's tokenizer test vectors: {@code NAME.gguf.inp} holds the strings, each followed by
 * {@code "\n__ggml_vocab_test__\n"}; {@code NAME.gguf.out} one line of space-prefixed ids per string.
 */
record VectorFile(List<String> inputs, List<int[]> expected) {
    static final String SEPARATOR = "\n__ggml_vocab_test__\n";

    static VectorFile read(Path inp, Path out) throws IOException {
        String all = Files.readString(inp, StandardCharsets.UTF_8);
        List<String> inputs = new ArrayList<>(Arrays.asList(all.split(SEPARATOR, -1)));
        if (!inputs.isEmpty() && inputs.getLast().isEmpty()) inputs.removeLast();
        List<int[]> expected = new ArrayList<>();
        for (String line : Files.readAllLines(out, StandardCharsets.UTF_8)) {
            String s = line.strip();
            expected.add(s.isEmpty() ? new int[0] : Arrays.stream(s.split(" ")).mapToInt(Integer::parseInt).toArray());
        }
        if (inputs.size() != expected.size()) {
            throw new IOException(inp + " has " + inputs.size() + " strings but " + out + " has " + expected.size() + " lines");
        }
        return new VectorFile(inputs, expected);
    }
}
