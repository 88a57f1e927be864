/**
 * Structured outputs by constrained decoding: at each decode step only tokens that keep the output
 * a prefix of a sentence of a grammar may be chosen, so the finished output always parses (and, for
 * a JSON schema, validates).
 *
 * <h2>Using it from an engine</h2>
 * <pre>{@code
 * // once per tokenizer (about 0.2-1.5 s for a 152k vocabulary; immutable, share it everywhere)
 * TokenVocabulary vocab = TokenVocabulary.of(tokenizer);
 *
 * // once per distinct request format (cache it, e.g. an LRU keyed by the schema text)
 * Grammar g = switch (responseFormat) {
 *     case json_object -> Grammar.anyJsonObject();
 *     case json_schema -> JsonSchemaCompiler.compile(schemaNode); // UnsupportedSchemaException -> HTTP 400
 *     case gbnf        -> GbnfParser.parse(grammarText);          // GrammarException -> HTTP 400
 * };
 * ConstraintIndex index = ConstraintIndex.of(g, vocab);           // thread-safe, shared by requests
 *
 * // per request
 * Constraint c = index.newConstraint();
 * while (!c.complete()) {
 *     float[] logits = model.forward(...);
 *     int t = sampler.sample(logits).token();
 *     if (!c.allows(t)) {            // cheap: walks one token's bytes over cached transitions
 *         c.mask(logits);            // disallowed logits -> -inf (or fillAllowed(long[]) for a device)
 *         t = sampler.sample(logits).token();
 *     }
 *     c.accept(t);                   // IllegalStateException if t is not allowed
 *     if (vocab.isEndOfGeneration(t)) break;
 *     emit(t);
 * }
 * }</pre>
 * <ul>
 *   <li>End-of-generation tokens are allowed exactly when {@link dev.gearbox.constrain.Constraint#canEnd()}
 *       (the output is complete); every other control, special, unused or empty token is never allowed.
 *       {@link dev.gearbox.constrain.Constraint#complete()} means nothing more can follow: stop even
 *       without an EOG token. A {@code max_tokens} cut can still leave an incomplete output; that is
 *       the caller's {@code finish_reason: length}.</li>
 *   <li>Resampling after a rejection is what llama.cpp does too; it only changes which token is drawn
 *       when the model's first choice was invalid. An engine that wants the exact constrained
 *       distribution masks first, every step.</li>
 *   <li>No rollback: a constraint moves forward only. Speculative decoding would need a copy per branch.</li>
 * </ul>
 *
 * <h2>Thread-safety</h2>
 * {@link dev.gearbox.constrain.Grammar}, {@link dev.gearbox.constrain.TokenVocabulary} and
 * {@link dev.gearbox.constrain.ConstraintIndex} are thread-safe and shared. A
 * {@link dev.gearbox.constrain.Constraint} belongs to one request and is used by one thread at a
 * time; constraints of one index share its recognizer under a lock.
 *
 * <h2>How it works</h2>
 * <ul>
 *   <li>{@link dev.gearbox.constrain.Grammar} is a context-free grammar over <em>bytes</em>: Unicode
 *       character classes are lowered to UTF-8 byte-range sequences, so a token may end in the middle
 *       of a character and the next token must finish it.</li>
 *   <li>The recognizer is a pushdown automaton with a set of stacks (as llama.cpp's grammar sampler),
 *       hash-consed so that equal parse states are one object, with each state's transition per byte
 *       memoised: a lazily built DFA over the reachable parse states. Finished frames are popped
 *       before rules are pushed, so repetition runs as a loop. Left recursion is rejected.</li>
 *   <li>A mask walks the vocabulary's byte trie (shared prefixes once, dead subtrees skipped with one
 *       jump). Masks are cached per state. A state is also cut to its top three stack frames; the
 *       tokens allowed by the cut state whatever lies below are computed once per cut state and shared
 *       by every state with the same top (the inside of any JSON string, for example), and only the
 *       tokens that run past the cut (those that close the string, typically a few thousand) are
 *       walked on the real state.</li>
 * </ul>
 *
 * <h2>JSON schema support</h2>
 * See {@link dev.gearbox.constrain.JsonSchemaCompiler} for the keywords and choices: properties in
 * declaration order (optional ones may be skipped, never reordered; no extra keys are generated when
 * properties are declared), {@code oneOf} treated as {@code anyOf}, bounded whitespace (at most one
 * space, or a newline and 20 indentation characters, between tokens; none around the top-level
 * value) and bounded numbers (16 integer digits, 16 fraction digits, 2 exponent digits);
 * integer {@code minimum}/{@code maximum}/exclusive bounds enforced digit by digit; {@code pattern},
 * {@code format}, bounds on non-integer numbers and the other keywords it cannot enforce are an
 * {@link dev.gearbox.constrain.UnsupportedSchemaException} naming the keyword and JSON pointer.
 *
 * <h2>Cost</h2>
 * {@link dev.gearbox.constrain.ConstraintBench} measures it on the real Qwen3 vocabulary (151,669
 * tokens): {@code allows} is tens of nanoseconds; a mask where few tokens fit (between JSON tokens)
 * 3-30 µs; inside a string about 0.2 ms once the shared part exists and a few milliseconds the first
 * time a grammar meets that state; a cached mask well under a microsecond.
 * {@link dev.gearbox.constrain.ConstraintDecodeBench} runs the engine loop above on a model: on a
 * random-weight 180M-parameter qwen3 with a 151,936-row output (4-10 ms per token on the shared
 * 2-core build machine), the constraint took 13-65 µs per token and resampling after a rejection
 * 57-170 µs per token, i.e. 1-3% of decode time, even though a random model's tokens are rejected
 * at 13-38% of steps; the tokens/s ratios themselves varied with the machine's load.
 */
package dev.gearbox.constrain;
