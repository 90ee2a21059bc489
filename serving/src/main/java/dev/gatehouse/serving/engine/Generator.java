package dev.gatehouse.serving.engine;

import ai.djl.ndarray.NDManager;
import dev.gatehouse.serving.arch.KvCache;
import dev.gatehouse.serving.arch.StepBatch;
import dev.gatehouse.serving.sample.SampledToken;
import dev.gatehouse.serving.sample.Sampler;
import dev.gatehouse.serving.sample.SamplingParams;
import dev.gatehouse.serving.text.Detokenizer;
import dev.gatehouse.serving.text.StopMatcher;

import java.util.Arrays;

/**
 * Generates one sequence at a time: prefill the prompt in chunks, then one forward pass per new
 * token with the keys and values of earlier positions kept in a {@link KvCache}.
 */
public final class Generator {
    /** Prompt tokens per forward pass while prefilling: bounds the attention scores' memory. */
    static final int PREFILL_CHUNK = 512;

    private final LocalModel model;

    public Generator(LocalModel model) {
        this.model = model;
    }

    public GenerationResult generate(int[] prompt, SamplingParams params, TokenListener listener) {
        params.validate();
        if (prompt.length == 0) {
            throw new IllegalArgumentException("prompt is empty");
        }
        int vocab = model.config().vocabSize();
        for (int i = 0; i < prompt.length; i++) {
            // an id with no embedding row would otherwise surface as a PyTorch index_select error
            if (prompt[i] < 0 || prompt[i] >= vocab) {
                throw new IllegalArgumentException("prompt token " + i + " is id " + prompt[i]
                        + ", outside the model's vocabulary of " + vocab + " ids");
            }
        }
        int context = model.config().maxPositions();
        if (prompt.length >= context) {
            throw new IllegalArgumentException("prompt has " + prompt.length + " tokens but the model's context is "
                    + context + " tokens");
        }
        int limit = Math.min(params.maxTokens(), context - prompt.length);
        Sampler sampler = new Sampler(params, prompt);
        Detokenizer detokenizer = new Detokenizer(model.tokenizer());
        StopMatcher stopMatcher = new StopMatcher(params.stop());
        StringBuilder text = new StringBuilder();
        int[] generated = new int[limit];
        int count = 0;
        FinishReason reason = FinishReason.LENGTH;
        boolean stoppedByString = false;
        long start = System.nanoTime();
        long firstToken = 0;
        try (KvCache cache = model.lm().newCache(1, prompt.length + limit)) {
            float[] logits = prefill(prompt, cache);
            int position = prompt.length;
            while (true) {
                SampledToken token = sampler.sample(logits);
                if (count == 0) {
                    firstToken = System.nanoTime();
                }
                generated[count++] = token.tokenId();
                if (!params.ignoreEos() && model.eosTokenIds().contains(token.tokenId())) {
                    reason = FinishReason.STOP;
                    break;
                }
                StopMatcher.Result r = stopMatcher.push(detokenizer.push(token.tokenId()));
                text.append(r.emit());
                listener.onToken(r.emit(), token);
                if (r.stopped()) {
                    reason = FinishReason.STOP;
                    stoppedByString = true;
                    break;
                }
                if (count == limit) {
                    break;
                }
                logits = step(StepBatch.single(new int[] {token.tokenId()}, position++, 0), cache);
            }
        }
        if (!stoppedByString) { // release text held back by the detokenizer and the stop matcher
            StopMatcher.Result r = stopMatcher.push(detokenizer.flush());
            String tail = r.emit() + (r.stopped() ? "" : stopMatcher.flush());
            if (!tail.isEmpty()) {
                text.append(tail);
                listener.onToken(tail, null);
            }
            if (r.stopped()) {
                reason = FinishReason.STOP;
            }
        }
        long end = System.nanoTime();
        return new GenerationResult(text.toString(), prompt, Arrays.copyOf(generated, count), reason,
                firstToken - start, end - firstToken);
    }

    private float[] prefill(int[] prompt, KvCache cache) {
        float[] logits = null;
        for (int from = 0; from < prompt.length; from += PREFILL_CHUNK) {
            int to = Math.min(prompt.length, from + PREFILL_CHUNK);
            logits = step(StepBatch.single(Arrays.copyOfRange(prompt, from, to), from, 0), cache);
        }
        return logits;
    }

    private float[] step(StepBatch batch, KvCache cache) {
        try (NDManager step = model.newStepManager()) {
            return model.lm().forward(batch, cache, step).toFloatArray();
        }
    }
}
