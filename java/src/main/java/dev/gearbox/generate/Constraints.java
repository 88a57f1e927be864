package dev.gearbox.generate;

import dev.gearbox.constrain.Constraint;
import dev.gearbox.constrain.ConstraintIndex;
import dev.gearbox.constrain.Grammar;
import dev.gearbox.constrain.TokenVocabulary;
import dev.gearbox.tokenizer.Tokenizer;

import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Where constrained decoding gets its shared, expensive parts: one {@link TokenVocabulary} per
 * tokenizer (building one walks the whole vocabulary: 0.2-1.5 s for 152k tokens) and one
 * {@link ConstraintIndex} per (grammar, vocabulary), so requests with the same schema share the
 * masks already computed. Both are held weakly: a grammar nobody uses any more is let go.
 */
public final class Constraints {
    private static final Map<Tokenizer, TokenVocabulary> VOCABS = Collections.synchronizedMap(new WeakHashMap<>());
    private static final Map<Grammar, Map<TokenVocabulary, ConstraintIndex>> INDEXES = Collections.synchronizedMap(new WeakHashMap<>());

    private Constraints() {}

    /** A fresh per-request constraint of {@code grammar} over {@code tok}'s vocabulary. */
    public static Constraint newConstraint(Grammar grammar, Tokenizer tok) {
        TokenVocabulary v = VOCABS.computeIfAbsent(tok, TokenVocabulary::of);
        Map<TokenVocabulary, ConstraintIndex> byVocab = INDEXES.computeIfAbsent(grammar, g -> Collections.synchronizedMap(new WeakHashMap<>()));
        return byVocab.computeIfAbsent(v, x -> ConstraintIndex.of(grammar, x)).newConstraint();
    }
}
