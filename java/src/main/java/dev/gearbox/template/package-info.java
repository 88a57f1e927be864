/**
 * Chat templates: a Jinja interpreter with Python jinja2's semantics under Hugging Face
 * transformers' settings ({@link dev.gearbox.template.Template}), and {@link dev.gearbox.template.ChatRenderer},
 * which renders a model's own {@code tokenizer.chat_template} for a conversation as
 * {@code apply_chat_template} does.
 *
 * <p>One job per file: {@code Lexer} (tokens and whitespace control), {@code Parser} (syntax tree,
 * {@code Node}), {@code Interpreter} (statements and expressions, {@code Scope}, {@code Macro},
 * {@code LoopContext}), {@code Py} (Python value semantics), {@code Access} (attributes and items),
 * {@code Methods} and {@code PyStrings} (str/list/dict methods), {@code Filters}, {@code Tests},
 * {@code PyJson} (json.dumps), {@code Globals} and {@code Strftime}.
 */
package dev.gearbox.template;
