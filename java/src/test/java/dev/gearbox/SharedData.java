package dev.gearbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the read-only ../shared data; tests that need it skip cleanly where it is absent. */
public final class SharedData {
    public static final Path ROOT = Path.of("..", "shared");
    private static final ObjectMapper JSON = new ObjectMapper();

    private SharedData() {}

    /** A file under ../shared, or a skipped test when it is missing. */
    public static Path require(String relative) {
        Path p = ROOT.resolve(relative);
        Require.capability("shared", Files.isRegularFile(p), "needs ../shared/" + relative + " (absent on this machine)");
        return p;
    }

    public static Path stories260K() {
        return require("models/stories260K.gguf");
    }

    public static JsonNode referenceJson(String name) throws IOException {
        return JSON.readTree(require("reference/stories260K/" + name).toFile());
    }

    public static int[] ints(JsonNode array) {
        int[] a = new int[array.size()];
        for (int i = 0; i < a.length; i++) a[i] = array.get(i).asInt();
        return a;
    }

    public static float[] floats(JsonNode array) {
        float[] a = new float[array.size()];
        for (int i = 0; i < a.length; i++) a[i] = (float) array.get(i).asDouble();
        return a;
    }
}
