package dev.gearbox.template;

import dev.gearbox.tokenizer.Tokenizer;

/**
 * A conversation as the token ids a model reads: rendered by the model's chat template (or a
 * configured one) and tokenized with special-token text parsed into its tokens, as llama.cpp's
 * server does; BOS is added by the tokenizer only when the template did not write it already
 * (Llama 3's and Gemma's templates start with {@code {{ bos_token }}}: one BOS, not two). A model
 * without any template reads the contents joined by newlines.
 */
public final class ChatPrompt {
    private ChatPrompt() {}

    /** The prompt text: the rendered template, or the plain contents when {@code renderer} is null. */
    public static String text(ChatRenderer renderer, Conversation c) {
        if (renderer == null) return c.plainText();
        try {
            return renderer.render(c.messages(), c.tools(), c.addGenerationPrompt(), c.kwargs());
        } catch (TemplateException e) {
            throw new IllegalArgumentException("the chat template cannot format this conversation: " + e.getMessage(), e);
        }
    }

    /** The prompt's token ids for {@code tok}. */
    public static int[] tokens(ChatRenderer renderer, Tokenizer tok, Conversation c) {
        if (renderer == null) return tok.encode(c.plainText(), true, false);
        return tokensOfRendered(tok, text(renderer, c));
    }

    /** Token ids of text a template rendered: special tokens parsed, BOS added unless the text already starts with it. */
    public static int[] tokensOfRendered(Tokenizer tok, String rendered) {
        boolean bosInText = tok.addsBos() && tok.bos() >= 0 && rendered.startsWith(tok.tokenText(tok.bos()));
        return tok.encode(rendered, !bosInText, true);
    }
}
