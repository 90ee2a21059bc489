package dev.gatehouse.serving.constrain;

/**
 * One answer's place in its grammar: masks each step's logits to the tokens that can continue a valid
 * document, and moves on with each token sampled. Not thread-safe: one per generated sequence.
 */
public final class GrammarMatcher {
    private final CompiledGrammar grammar;
    private ParseState state;

    GrammarMatcher(CompiledGrammar grammar, ParseState state) {
        this.grammar = grammar;
        this.state = state;
    }

    /** Sets the logit of every token that cannot come next to -infinity. */
    public void mask(float[] logits) {
        grammar.mask(state).apply(logits);
    }

    /** Whether the grammar allows {@code tokenId} next. */
    public boolean allows(int tokenId) {
        return grammar.mask(state).allows(tokenId);
    }

    /**
     * Moves past a sampled token. An end-of-sequence token leaves the state as it is.
     *
     * @throws IllegalStateException when the grammar does not allow the token (it was not sampled from a masked row)
     */
    public void accept(int tokenId) {
        byte[] bytes = grammar.trie().bytes(tokenId);
        if (bytes == null || grammar.trie().isEos(tokenId)) {
            if (!allows(tokenId)) {
                throw new IllegalStateException("token " + tokenId + " is not allowed here");
            }
            return;
        }
        ParseState next = state;
        for (byte b : bytes) {
            next = next.advance(b & 0xff);
            if (next == null) {
                throw new IllegalStateException("token " + tokenId + " is not allowed here");
            }
        }
        state = next;
    }

    /** Whether the document is complete and nothing may follow: the answer ends here. */
    public boolean finished() {
        return state.finished();
    }
}
