package dev.gearbox.cli;

import dev.gearbox.generate.ChatSession;
import dev.gearbox.generate.GenerationResult;
import dev.gearbox.generate.Generator;
import dev.gearbox.generate.LogitSource;
import dev.gearbox.generate.StopReason;
import dev.gearbox.model.Model;
import dev.gearbox.model.Sequence;
import dev.gearbox.sample.SamplingParams;
import dev.gearbox.tokenizer.ChatMessage;
import dev.gearbox.tokenizer.ChatTemplate;
import dev.gearbox.template.ChatPrompt;
import dev.gearbox.template.ChatRenderer;
import dev.gearbox.template.Conversation;
import dev.gearbox.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code gearbox chat}: a conversation on stdin/stdout. Each line read is a user message; the reply
 * streams to stdout. The KV cache is kept between turns, so only the new part of the conversation
 * is prefilled. Works on a pipe too: reads lines until end of input.
 */
@Command(name = "chat", mixinStandardHelpOptions = true,
        description = {"Chats with an instruction-tuned model: each line on stdin is a user message, replies stream to stdout.",
                "The chat format comes from the model's tokenizer.chat_template unless --template names one.",
                "Lines /reset (forget the conversation) and /exit are commands. Ends at end of input."})
final class ChatCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions model = new ModelOptions();

    @Mixin
    SamplingOptions sampling = new SamplingOptions();

    @Option(names = "--template", paramLabel = "NAME",
            description = "A built-in chat format to use instead of the model's own template: ${COMPLETION-CANDIDATES}.",
            completionCandidates = TemplateNames.class)
    String template;

    @Option(names = "--chat-template-file", paramLabel = "FILE",
            description = "A Jinja chat template to use instead of the model's own (as llama.cpp's --chat-template-file).")
    java.nio.file.Path templateFile;

    @Option(names = "--system", paramLabel = "TEXT", description = "A system message that starts the conversation.")
    String system;

    /** Where user messages come from; tests replace it. */
    InputStream input = System.in;

    static final class TemplateNames extends ArrayList<String> {
        TemplateNames() {
            for (ChatTemplate t : ChatTemplate.values()) add(t.id());
        }
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        SamplingParams params = sampling.params();
        // A person at a terminal gets a "> " prompt (on stdout: stderr may be a line-buffered filter); a pipe does not.
        boolean interactive = input == System.in && System.console() != null && System.console().isTerminal();
        try (Model m = model.load()) {
            ChatRenderer format = resolveTemplate(m);
            Tokenizer tok = m.tokenizer();
            int ctx = model.contextSize(m);
            if (interactive) {
                err.printf("gearbox: chatting with %s (%s, context %d tokens); /exit or end of input to quit%n",
                        model.model.getFileName(), templateFile != null ? templateFile : template != null ? template : "its own chat template", ctx);
            }
            try (Sequence seq = m.newSequence(ctx)) {
                ChatSession chat = new ChatSession(new Generator(tok), LogitSource.of(seq));
                List<ChatMessage> messages = newConversation();
                BufferedReader in = new BufferedReader(new InputStreamReader(input, StandardCharsets.UTF_8));
                while (true) {
                    if (interactive) {
                        out.print("> ");
                        out.flush();
                    }
                    String line = in.readLine();
                    if (line == null) break;
                    String text = line.strip();
                    if (text.isEmpty()) continue;
                    if (text.equals("/exit") || text.equals("/quit")) break;
                    if (text.equals("/reset")) {
                        messages = newConversation();
                        continue;
                    }
                    messages.add(ChatMessage.user(line));
                    int[] ids = ChatPrompt.tokens(format, tok, conversation(messages));
                    GenerationResult r = chat.reply(ids, params, piece -> {
                        out.print(piece);
                        out.flush();
                    });
                    out.println();
                    out.flush();
                    messages.add(ChatMessage.assistant(r.text()));
                    if (r.stopReason() == StopReason.CONTEXT_FULL) {
                        throw new IllegalStateException("the conversation filled the context of " + ctx
                                + " tokens; start again with a larger --ctx (the model was trained for " + m.config().contextLength() + ")");
                    }
                }
            }
        }
        return Main.EXIT_OK;
    }

    private List<ChatMessage> newConversation() {
        List<ChatMessage> messages = new ArrayList<>();
        if (system != null && !system.isBlank()) messages.add(ChatMessage.system(system));
        return messages;
    }

    /** The model's own chat template, or the one --chat-template-file or --template names instead. */
    private ChatRenderer resolveTemplate(Model m) throws java.io.IOException {
        if (templateFile != null && template != null) throw new IllegalArgumentException("give --template or --chat-template-file, not both");
        if (template != null) ChatTemplate.byName(template);   // a built-in name, never template text: unknown names are an error
        String override = templateFile != null ? java.nio.file.Files.readString(templateFile) : template;
        try {
            return ChatRenderer.forModel(m.file(), override);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(model.model.getFileName() + ": cannot chat: " + e.getMessage()
                    + " (pass --template NAME or --chat-template-file FILE)", e);
        }
    }

    private static Conversation conversation(List<ChatMessage> messages) {
        List<java.util.Map<String, Object>> m = new ArrayList<>();
        for (ChatMessage x : messages) m.add(java.util.Map.of("role", x.role(), "content", x.content()));
        return new Conversation(m, null, null, true, null, null);
    }
}
