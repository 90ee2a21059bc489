package dev.gatehouse.serving.engine;

import dev.gatehouse.serving.constrain.CompiledGrammar;
import dev.gatehouse.serving.constrain.GrammarMatcher;
import dev.gatehouse.serving.sample.SampledToken;
import dev.gatehouse.serving.sample.Sampler;
import dev.gatehouse.serving.sample.SamplingParams;
import dev.gatehouse.serving.text.Detokenizer;
import dev.gatehouse.serving.text.StopMatcher;

import java.util.Arrays;
import java.util.Set;

/**
 * One request's generation state: its sampler, the grammar its answer is held to (if any), the
 * incremental detokenizer, the stop-string matcher, and where it stands in the KV cache. Both the single-stream {@link Generator} and the
 * batching {@link Engine} feed it sampled tokens; it decides what text to emit and when to stop.
 */
final class Sequence {
    final int[] prompt;
    final SamplingParams params;
    final Sampler sampler;
    /** Where a constrained answer stands in its grammar; null when the answer is free text. */
    private final GrammarMatcher matcher;
    /** Generated tokens allowed: max_tokens capped by the room left in the context. */
    final int limit;
    private final Detokenizer detokenizer;
    private final StopMatcher stopMatcher;
    private final Set<Integer> eosTokenIds;
    /** The prompt, then the generated tokens: the token at each position. */
    private int[] tokens;
    private int generatedCount;

    /** The KV-cache blocks holding this sequence's positions, in order; none while waiting. */
    private int[] blocks = new int[8];
    private int blockCount;
    /** The prefix-cache keys of the first full blocks, each chained on the one before. */
    private BlockHash[] hashes = new BlockHash[8];
    private int hashCount;

    /** Positions already in the KV cache (prompt prefix, then generated tokens). */
    int cached;
    /** Positions to cache before decoding, {@link #positionsToCompute()} as of its admission. */
    int prefillLength;
    /** The token to feed next once the prompt is cached: the last sampled one. */
    int nextInput;

    Sequence(int[] prompt, SamplingParams params, LocalModel model, int contextLength) {
        this(prompt, params, null, model, contextLength);
    }

    /** @param grammar the grammar the answer must follow, or null for free text */
    Sequence(int[] prompt, SamplingParams params, CompiledGrammar grammar, LocalModel model, int contextLength) {
        this.prompt = prompt;
        this.tokens = Arrays.copyOf(prompt, prompt.length + 16);
        this.prefillLength = prompt.length;
        this.params = params;
        this.sampler = new Sampler(params, prompt);
        this.matcher = grammar == null ? null : grammar.newMatcher();
        this.limit = Math.min(params.maxTokens(), contextLength - prompt.length);
        this.detokenizer = new Detokenizer(model.tokenizer(), prompt);
        this.stopMatcher = new StopMatcher(params.stop());
        this.eosTokenIds = model.eosTokenIds();
    }

    /**
     * Rejects a request the engine could not run, with a message naming what is wrong: bad
     * sampling parameters, an empty prompt, token ids outside the vocabulary (PyTorch would fail
     * deep in index_select), or a prompt that leaves no room to generate.
     */
    static void validate(int[] prompt, SamplingParams params, LocalModel model, int contextLength) {
        params.validate();
        if (prompt.length == 0) {
            throw new IllegalArgumentException("prompt is empty");
        }
        int vocab = model.config().vocabSize();
        for (int i = 0; i < prompt.length; i++) {
            if (prompt[i] < 0 || prompt[i] >= vocab) {
                throw new IllegalArgumentException("prompt token " + i + " is id " + prompt[i]
                        + ", outside the model's vocabulary of " + vocab + " ids");
            }
        }
        if (prompt.length >= contextLength) {
            throw new IllegalArgumentException("prompt has " + prompt.length + " tokens but " + model.name()
                    + " serves at most " + contextLength + " tokens per sequence (prompt + completion)");
        }
    }

    /** What one sampled token produced: text to emit, and the finish reason if generation ends here. */
    record Outcome(String text, FinishReason finish) {}

    /** Positions to cache before decoding if admitted now: the prompt, and after a preemption the tokens generated but the last. */
    int positionsToCompute() {
        return prompt.length + Math.max(0, generatedCount - 1);
    }

    boolean prefilled() {
        return cached >= prefillLength;
    }

    int generatedCount() {
        return generatedCount;
    }

    int[] generatedTokens() {
        return Arrays.copyOfRange(tokens, prompt.length, prompt.length + generatedCount);
    }

    /** The token at each position so far (valid up to prompt + generated); the caller must not change it. */
    int[] tokens() {
        return tokens;
    }

    int blockCount() {
        return blockCount;
    }

    int block(int i) {
        return blocks[i];
    }

    /** The block table as a step needs it. */
    int[] blockTable() {
        return Arrays.copyOf(blocks, blockCount);
    }

    void addBlock(int block) {
        if (blockCount == blocks.length) {
            blocks = Arrays.copyOf(blocks, blocks.length * 2);
        }
        blocks[blockCount++] = block;
    }

    int hashCount() {
        return hashCount;
    }

    /** The key of the last hashed block, the one the next block's key chains on; null when none is. */
    BlockHash lastHash() {
        return hashCount == 0 ? null : hashes[hashCount - 1];
    }

    void addHash(BlockHash hash) {
        if (hashCount == hashes.length) {
            hashes = Arrays.copyOf(hashes, hashes.length * 2);
        }
        hashes[hashCount++] = hash;
    }

    /** Forgets the blocks (their holder has released them) and the cached positions, as a preemption does. */
    void dropBlocks() {
        blockCount = 0;
        hashCount = 0;
        cached = 0;
    }

    /** How much of a step's logits row this sequence samples from: all of it under a grammar, whose mask may rule out any token. */
    int candidatesNeeded() {
        return matcher != null ? LogitsReadback.FULL : sampler.candidatesNeeded();
    }

    /** The next token from this sequence's row of the logits, masked to what its grammar allows. */
    SampledToken sample(LogitsReadback.Row row) {
        if (matcher == null) {
            return row.sample(sampler);
        }
        matcher.mask(row.full());
        return sampler.sample(row.full());
    }

    Outcome accept(SampledToken token) {
        int length = prompt.length + generatedCount;
        if (length == tokens.length) {
            tokens = Arrays.copyOf(tokens, tokens.length * 2);
        }
        tokens[length] = token.tokenId();
        generatedCount++;
        nextInput = token.tokenId();
        if (!params.ignoreEos() && eosTokenIds.contains(token.tokenId())) {
            return finish("", FinishReason.STOP);
        }
        if (matcher != null) {
            matcher.accept(token.tokenId());
        }
        StopMatcher.Result r = stopMatcher.push(detokenizer.push(token.tokenId()));
        if (r.stopped()) {
            return new Outcome(r.emit(), FinishReason.STOP);
        }
        if (matcher != null && matcher.finished()) { // the document is complete: nothing may follow it
            return finish(r.emit(), FinishReason.STOP);
        }
        if (generatedCount >= limit) {
            return finish(r.emit(), FinishReason.LENGTH);
        }
        return new Outcome(r.emit(), null);
    }

    /** The stop string that ended the generation; null when it did not end at one. */
    String stopSequence() {
        return stopMatcher.matched();
    }

    /** Releases text the detokenizer and the stop matcher still hold; a stop string found there wins. */
    private Outcome finish(String text, FinishReason reason) {
        StopMatcher.Result r = stopMatcher.push(detokenizer.flush());
        if (r.stopped()) {
            return new Outcome(text + r.emit(), FinishReason.STOP);
        }
        return new Outcome(text + r.emit() + stopMatcher.flush(), reason);
    }
}
