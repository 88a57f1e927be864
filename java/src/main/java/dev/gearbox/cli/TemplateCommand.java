package dev.gearbox.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gearbox.gguf.GGUFFile;
import dev.gearbox.gguf.GGUFFormatException;
import dev.gearbox.template.ChatRenderer;
import dev.gearbox.template.Values;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code gearbox template}: the prompt a model's chat template makes of a conversation, exactly as
 * Hugging Face's apply_chat_template renders it, printed with nothing added (no trailing newline).
 * Reads only the metadata.
 */
@Command(name = "template", mixinStandardHelpOptions = true,
        description = {"Prints the prompt the model's chat template (tokenizer.chat_template) makes of a conversation.",
                "Rendered as Hugging Face transformers' apply_chat_template does; nothing is added to the output."})
final class TemplateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "FILE", description = "GGUF model (or vocabulary-only) file.")
    Path model;

    @Option(names = "--messages", required = true, paramLabel = "FILE", description = "JSON array of messages ({role, content, tool_calls, ...}).")
    Path messages;

    @Option(names = "--tools", paramLabel = "FILE", description = "JSON array of OpenAI-style tool definitions.")
    Path tools;

    @Option(names = "--no-generation-prompt", description = "Do not open the assistant's turn at the end (add_generation_prompt=false).")
    boolean noGenerationPrompt;

    @Option(names = "--chat-template-file", paramLabel = "FILE", description = "Jinja template to use instead of the model's.")
    Path templateFile;

    @Option(names = "--chat-template", paramLabel = "NAME", description = "A built-in template to use instead of the model's (llama3, chatml, llama2, mistral-v7, ...; as chat --template).")
    String templateName;

    @Option(names = "--kwargs", paramLabel = "JSON", description = "JSON object of extra template variables, e.g. '{\"enable_thinking\": false}'.")
    String kwargs;

    @Override
    public Integer call() throws Exception {
        if (templateFile != null && templateName != null) {
            throw new ParameterException(spec.commandLine(), "give --chat-template-file or --chat-template, not both");
        }
        List<?> msgs = readList(messages, "--messages");
        List<?> toolList = tools != null ? readList(tools, "--tools") : null;
        Map<String, ?> extra = Map.of();
        if (kwargs != null) {
            JsonNode k = parse(kwargs, "--kwargs");
            if (!k.isObject()) throw new ParameterException(spec.commandLine(), "--kwargs must be a JSON object");
            @SuppressWarnings("unchecked")
            Map<String, ?> m = (Map<String, ?>) Values.fromJson(k);
            extra = m;
        }
        String override = templateFile != null ? Files.readString(templateFile) : templateName;
        if (!Files.isRegularFile(model)) throw new GGUFFormatException(model, -1, Files.exists(model) ? "not a regular file" : "no such file");
        try (GGUFFile f = GGUFFile.open(model)) {
            String prompt = ChatRenderer.forModel(f, override).render(msgs, toolList, !noGenerationPrompt, extra);
            spec.commandLine().getOut().print(prompt);
            spec.commandLine().getOut().flush();
        }
        return Main.EXIT_OK;
    }

    private List<?> readList(Path p, String option) throws IOException {
        if (!Files.isRegularFile(p)) throw new IOException(option + ": no such file " + p);
        JsonNode n = parse(Files.readString(p), option + " " + p);
        if (!n.isArray()) throw new ParameterException(spec.commandLine(), option + " " + p + " must hold a JSON array");
        return (List<?>) Values.fromJson(n);
    }

    private JsonNode parse(String text, String what) {
        try {
            return Json.MAPPER.readTree(text);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ParameterException(spec.commandLine(), what + " is not valid JSON: " + e.getOriginalMessage());
        }
    }
}
