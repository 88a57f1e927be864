package dev.gearbox.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gearbox.Require;
import dev.gearbox.gguf.synth.SyntheticModel;
import dev.gearbox.ladder.Tier;
import dev.gearbox.template.ChatRenderer;
import dev.gearbox.tensor.GGMLType;
import dev.gearbox.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Ladders shaped like a real instruct ladder, for the tests that drive the server with clients no one
 * here wrote: three tiny random-weight tiers (s &lt; m &lt; l, 1–2 blocks of width 64–128, Q8_0) that
 * carry a real model's whole vocabulary, tokenizer and chat template (copied from a vocab GGUF made by
 * scripts/fetch-test-assets.sh with {@link SyntheticModel.Builder#vocabFrom(Path)}). So the answers are
 * noise, but every prompt is tokenized and templated exactly as the real model's would be, and a
 * client sees a vocabulary of 128k–152k tokens, special tokens and all.
 *
 * <ul>
 *   <li>{@link Shape#QWEN3}: arch qwen3 (q/k norms, head size 32 decoupled from the width), Qwen3's
 *       151,669-token vocabulary and its ChatML template with tools and thinking.</li>
 *   <li>{@link Shape#LLAMA3_1}: arch llama with Llama 3.1 rope scaling, Llama 3.1's 128,256-token
 *       vocabulary and its template (which writes {@code <|begin_of_text|>} itself).</li>
 * </ul>
 *
 * The ladder file lists the tiers smallest first, the smallest as gatekeeper, escalation on the two
 * lower tiers (random weights are never confident, so an "auto" request climbs to l) and
 * {@code max_answer_tokens: 16}. Skips (or fails where {@code -Dgearbox.require=assets}) without the assets.
 */
public final class UserShapedLadders {
    public static final int MAX_ANSWER_TOKENS = 16;
    public static final int CONTEXT = 2048;

    public enum Shape {
        QWEN3("qwen3", "qwen3-vocab.gguf"),
        LLAMA3_1("llama3_1", "llama3_1-vocab.gguf");

        final String name;
        final String vocabAsset;

        Shape(String name, String vocabAsset) {
            this.name = name;
            this.vocabAsset = vocabAsset;
        }

        /** The vocab GGUF this shape copies its tokenizer and template from (skips the test when absent). */
        public Path vocab() { return Require.asset(vocabAsset); }
    }

    private UserShapedLadders() {}

    /** Writes the three tiers and {@code ladder.yaml} into {@code dir}; returns the ladder file. */
    public static Path write(Path dir, Shape shape) throws IOException {
        Path vocab = shape.vocab();
        Files.createDirectories(dir);
        // name, width, layers, heads, kv heads, seed
        Object[][] tiers = {{"s", 64, 1, 2, 1, 11L}, {"m", 128, 1, 4, 2, 12L}, {"l", 128, 2, 4, 2, 13L}};
        for (Object[] t : tiers) {
            Path file = dir.resolve(shape.name + "-tier-" + t[0] + ".gguf");
            if (Files.exists(file)) continue;
            SyntheticModel.Builder b = SyntheticModel.builder().vocabFrom(vocab)
                    .embeddingLength((int) t[1]).layers((int) t[2]).heads((int) t[3]).kvHeads((int) t[4]).headDim(32)
                    .feedForward(2 * (int) t[1]).contextLength(CONTEXT).tiedOutput(true).weightType(GGMLType.Q8_0)
                    .seed((long) t[5]).name(shape.name + "-shaped-" + t[0]);
            switch (shape) {
                case QWEN3 -> b.arch(SyntheticModel.Arch.QWEN3).ropeBase(1_000_000).rmsEps(1e-6);
                case LLAMA3_1 -> b.arch(SyntheticModel.Arch.LLAMA).ropeBase(500_000)
                        .llama3RopeScaling(SyntheticModel.Llama3RopeScaling.llama31(8));
            }
            b.build().write(file);
        }
        String yaml = """
                # A user-shaped %1$s ladder (dev.gearbox.server.UserShapedLadders): random weights, the real vocabulary and chat template.
                name: %1$s-shaped
                gatekeeper: {model: %1$s-tier-s.gguf, context: %2$d}
                max_answer_tokens: %3$d
                tiers:
                  - {name: s, model: %1$s-tier-s.gguf, streams: 2, max_sequences: 4, context: %2$d, escalate: {window: 4, min_mean_logprob: -0.5}}
                  - {name: m, model: %1$s-tier-m.gguf, streams: 1, max_sequences: 4, context: %2$d, escalate: {window: 4, min_mean_logprob: -0.5}}
                  - {name: l, model: %1$s-tier-l.gguf, streams: 1, max_sequences: 4, context: %2$d}
                """.formatted(shape.name, CONTEXT, MAX_ANSWER_TOKENS);
        Path ladder = dir.resolve("ladder.yaml");
        Files.writeString(ladder, yaml);
        return ladder;
    }

    /**
     * How many prompt tokens a chat request must cost on {@code tier}: the tier's own chat template
     * rendered as transformers' {@code apply_chat_template(messages, tools=tools, add_generation_prompt=True)}
     * does, then tokenized by the tier's tokenizer with special-token text parsed, adding BOS only where
     * the tokenizer adds one and the template did not already write it (as llama.cpp's server does).
     *
     * @param messages the request's {@code messages}, exactly as sent (JSON)
     * @param tools the request's {@code tools} as sent, or null
     */
    public static int templatedPromptTokens(Tier tier, JsonNode messages, JsonNode tools) {
        return tokens(tier, renderedPrompt(tier, messages, tools));
    }

    /** The prompt text the tier's template makes of the request (see {@link #templatedPromptTokens}). */
    public static String renderedPrompt(Tier tier, JsonNode messages, JsonNode tools) {
        List<JsonNode> msgs = new ArrayList<>();
        for (JsonNode m : messages) {
            // An assistant turn that only calls tools comes with "content": null (the openai SDKs) or with no
            // content at all (LangChain4j). Qwen3's template, like many, cannot take either (transformers' Jinja
            // raises on '...' + content, and so does ChatRenderer), so such content renders as "", as llama.cpp
            // does for templates that need a string.
            if (m.isObject() && (!m.has("content") || m.get("content").isNull())) {
                m = ((com.fasterxml.jackson.databind.node.ObjectNode) m.deepCopy()).put("content", "");
            }
            msgs.add(m);
        }
        List<JsonNode> toolList = null;
        if (tools != null && !tools.isNull() && !tools.isEmpty()) {
            toolList = new ArrayList<>();
            tools.forEach(toolList::add);
        }
        return ChatRenderer.forModel(tier.model().file(), null).render(msgs, toolList, true, Map.of());
    }

    /** Tokens of an already rendered prompt (BOS not doubled). */
    public static int tokens(Tier tier, String rendered) {
        Tokenizer tok = tier.model().tokenizer();
        boolean hasBos = tok.bos() >= 0 && rendered.startsWith(tok.tokenText(tok.bos()));
        return tok.encode(rendered, !hasBos, true).length;
    }

    /** Tokens of a plain completions prompt, as the server must count them (special tokens added as the model says). */
    public static int completionPromptTokens(Tier tier, String prompt) {
        return tier.model().tokenizer().encode(prompt, true, true).length;
    }
}
