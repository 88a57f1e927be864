package dev.gearbox.template;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * One small template per engine feature (whitespace control, loops, scoping, namespace, macros,
 * operators, slicing, Python string methods, filters, tests, globals, printing), each compared byte
 * for byte with what Python's jinja2 renders under Hugging Face's settings. The expected strings
 * come from scripts/make-template-fixtures.py (engine-cases.json), which runs jinja2 itself.
 */
class JinjaEngineCasesTest {
    /** The date make-template-fixtures.py fixes for strftime_now. */
    static final Clock FIXED = Clock.fixed(LocalDateTime.of(2026, 3, 7, 14, 5, 9).toInstant(ZoneOffset.UTC), ZoneOffset.UTC);

    @TestFactory
    List<DynamicTest> rendersLikeJinja2() throws IOException {
        JsonNode cases = load("/templates/engine-cases.json");
        List<DynamicTest> tests = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : cases.properties()) {
            JsonNode c = e.getValue();
            tests.add(DynamicTest.dynamicTest(e.getKey(), () -> {
                @SuppressWarnings("unchecked")
                Map<String, Object> vars = (Map<String, Object>) Values.fromJson(c.get("vars"));
                String out = Template.parse(c.get("template").asText()).render(vars, FIXED);
                assertEquals(c.get("expected").asText(), out, "template: " + c.get("template").asText());
            }));
        }
        if (tests.size() < 30) throw new AssertionError("engine-cases.json has only " + tests.size() + " cases");
        return tests;
    }

    static JsonNode load(String resource) throws IOException {
        try (InputStream in = JinjaEngineCasesTest.class.getResourceAsStream(resource)) {
            if (in == null) throw new IOException("missing test resource " + resource);
            return new ObjectMapper().readTree(in);
        }
    }
}
