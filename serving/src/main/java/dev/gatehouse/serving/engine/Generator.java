package dev.gatehouse.serving.engine;

import ai.djl.ndarray.NDManager;
import dev.gatehouse.serving.arch.KvCache;
import dev.gatehouse.serving.arch.StepBatch;
import dev.gatehouse.serving.sample.SampledToken;
import dev.gatehouse.serving.sample.SamplingParams;

import java.util.Arrays;

/**
 * Generates one sequence on the caller's thread, unbatched: prefill the prompt in chunks, then one
 * forward pass per new token with earlier keys and values kept in a {@link KvCache}. The CLI's
 * {@code generate} uses it; servers use the batching {@link Engine}.
 */
public final class Generator {
    /** Prompt tokens per forward pass while prefilling: bounds the attention scores' memory. */
    static final int PREFILL_CHUNK = 512;

    private final LocalModel model;

    public Generator(LocalModel model) {
        this.model = model;
    }

    public GenerationResult generate(int[] prompt, SamplingParams params, TokenListener listener) {
        int context = model.config().maxPositions();
        Sequence.validate(prompt, params, model, context);
        Sequence seq = new Sequence(prompt, params, model, context);
        StringBuilder text = new StringBuilder();
        long start = System.nanoTime();
        long firstToken = 0;
        FinishReason finish;
        int[] blocks = KvCache.consecutiveBlocks(0, prompt.length + seq.limit);
        try (KvCache cache = model.lm().newCache(blocks.length)) {
            int need = seq.candidatesNeeded();
            LogitsReadback.Row row = null;
            for (int from = 0; from < prompt.length; from += PREFILL_CHUNK) {
                int to = Math.min(prompt.length, from + PREFILL_CHUNK);
                row = step(StepBatch.single(Arrays.copyOfRange(prompt, from, to), from, blocks), cache,
                        to == prompt.length ? need : LogitsReadback.NONE);
            }
            int position = prompt.length;
            while (true) {
                SampledToken token = seq.sample(row);
                if (firstToken == 0) {
                    firstToken = System.nanoTime();
                }
                Sequence.Outcome outcome = seq.accept(token);
                text.append(outcome.text());
                listener.onToken(outcome.text(), token);
                if (outcome.finish() != null) {
                    finish = outcome.finish();
                    break;
                }
                row = step(StepBatch.single(new int[] {token.tokenId()}, position++, blocks), cache, need);
            }
        }
        return new GenerationResult(text.toString(), prompt, seq.generatedTokens(), finish,
                firstToken - start, System.nanoTime() - firstToken);
    }

    private LogitsReadback.Row step(StepBatch batch, KvCache cache, int need) {
        try (NDManager step = model.newStepManager()) {
            return LogitsReadback.read(model.lm().forward(batch, cache, step), new int[] {need})[0];
        }
    }
}
