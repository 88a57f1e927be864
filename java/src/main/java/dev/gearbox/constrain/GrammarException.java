package dev.gearbox.constrain;

/** A grammar that cannot be used: a syntax error, an undefined rule, left recursion. */
public class GrammarException extends IllegalArgumentException {
    public GrammarException(String message) {
        super(message);
    }
}
