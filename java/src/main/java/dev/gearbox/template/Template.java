package dev.gearbox.template;

import dev.gearbox.template.Node.Stmt;

import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A parsed Jinja template, rendered as Hugging Face transformers renders chat templates: jinja2's
 * ImmutableSandboxedEnvironment with {@code trim_blocks}, {@code lstrip_blocks}, the loopcontrols
 * extension, its {@code tojson}, {@code raise_exception} and {@code strftime_now}, and jinja2's
 * default Undefined.
 *
 * <p><b>Why not a library.</b> Jinjava 2.8.2 (HubSpot's Java Jinja, trim_blocks and lstrip_blocks on)
 * was tried first on the same fixtures (the conversations of {@code conversations.json} against
 * jinja2's outputs, 2026-12-04): Gemma 3 and DeepSeek V3 came out identical, Llama 3 and 3.1 differed
 * in 2 of 11 (Python's {@code str()} of a list and of None), and Qwen3 failed every conversation
 * ({@code namespace(...)} with keyword arguments is rejected; the template also needs
 * {@code messages[::-1]} and Python's {@code startswith}/{@code split}/{@code rstrip}...). Extending it
 * would mean replacing its value printing, undefined handling, slicing and method dispatch, i.e. most
 * of what matters here. Chat templates use a small, stable subset of Jinja, so this package interprets
 * exactly that subset with Python's semantics (as llama.cpp does with its own engine).
 */
public final class Template {
    private final String source;
    private final List<Stmt> body;

    private Template(String source, List<Stmt> body) {
        this.source = source;
        this.body = body;
    }

    /** Parses {@code source}. @throws TemplateException naming the line and column of a syntax error */
    public static Template parse(String source) {
        try {
            return new Template(source, Parser.parse(source));
        } catch (StackOverflowError e) {
            throw new TemplateException("the template nests too deeply to parse", 0, 0);
        }
    }

    public String source() { return source; }

    /** Renders with {@code vars} (converted by {@link Values#fromJava}) and the wall clock for strftime_now. */
    public String render(Map<String, ?> vars) { return render(vars, Clock.systemDefaultZone()); }

    /**
     * Renders with {@code vars} as the template's variables.
     *
     * @throws RaisedException when the template calls raise_exception
     * @throws TemplateException when anything else fails, naming line and column
     */
    public String render(Map<String, ?> vars, Clock clock) {
        Map<String, Object> globals = new HashMap<>(Globals.create(clock));
        Interpreter in = new Interpreter(globals);
        StringBuilder out = new StringBuilder();
        try {
            in.render(body, Scope.of(vars), out);
        } catch (StackOverflowError e) {
            throw new TemplateException("the template recursed too deeply", 0, 0);
        }
        return out.toString();
    }
}
