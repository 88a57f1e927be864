/**
 * Tokenizers that give the same ids as llama.cpp for the same GGUF vocabulary, and chat prompt templates.
 *
 * <ul>
 *   <li>{@link dev.gearbox.tokenizer.Tokenizers#fromGGUF} reads {@code tokenizer.ggml.*} and returns a
 *       {@link dev.gearbox.tokenizer.SpmTokenizer} ({@code model = llama}) or a
 *       {@link dev.gearbox.tokenizer.BpeTokenizer} ({@code model = gpt2}); both are immutable and thread-safe.</li>
 *   <li>Prompts: {@code encode(text, true, true)} (BOS as the model wants it, special-token text parsed), as
 *       llama.cpp's tools do. Raw user text that must not turn into control tokens: {@code encode(text, false, false)}.</li>
 *   <li>Output: {@code tokenBytes(id)} per token (may be part of a UTF-8 character: buffer bytes before
 *       printing), {@code decode(ids, false)} for text without control tokens, {@code isEndOfGeneration} to stop.</li>
 *   <li>{@link dev.gearbox.tokenizer.ChatTemplate}: detect from {@code tokenizer.chat_template}, render, then
 *       encode with {@code addSpecial = true}; the template text never contains the leading BOS.</li>
 * </ul>
 */
package dev.gearbox.tokenizer;
