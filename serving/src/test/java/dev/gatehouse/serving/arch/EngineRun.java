package dev.gatehouse.serving.arch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.gatehouse.serving.engine.DeviceChoice;
import dev.gatehouse.serving.engine.DtypeChoice;
import dev.gatehouse.serving.engine.GenerationResult;
import dev.gatehouse.serving.engine.Generator;
import dev.gatehouse.serving.engine.LocalModel;
import dev.gatehouse.serving.engine.WeightsDtype;
import dev.gatehouse.serving.load.ModelConfig;
import dev.gatehouse.serving.sample.SamplingParams;

import java.nio.file.Path;

/**
 * Gatehouse's engine seen the way the oracles are: next-token probabilities and greedy continuations
 * by token id. With {@code weights-dtype: stored} a Llama-family model must run its steps wholly in
 * Java (one tensor per step, the logits), and every step here checks that it did.
 */
final class EngineRun implements AutoCloseable {
    final LocalModel model;
    private final boolean javaForward;

    EngineRun(Path folder) {
        this(folder, WeightsDtype.AUTO);
    }

    EngineRun(Path folder, WeightsDtype weights) {
        model = LocalModel.load(folder, DeviceChoice.CPU, DtypeChoice.AUTO, weights);
        javaForward = weights == WeightsDtype.STORED && model.config().family() == ModelConfig.Family.LLAMA;
    }

    /** One forward pass; on the Java path, proof that it created nothing but the logits. */
    private NDArray forward(StepBatch batch, KvCache cache, NDManager step) {
        NDArray logits = model.lm().forward(batch, cache, step);
        if (javaForward && step.getManagedArrays().size() != 1) {
            throw new AssertionError("the step did not run in Java: it left " + step.getManagedArrays().size() + " tensors");
        }
        return logits;
    }

    /** Logits of the last token of each of {@code prompts} (all one length), computed as one batch. */
    float[] batchLogits(int[][] prompts) {
        int n = prompts.length;
        int t = prompts[0].length;
        int perSequence = KvCache.consecutiveBlocks(0, t).length;
        int[] tokens = new int[n * t];
        int[][] tables = new int[n][];
        for (int b = 0; b < n; b++) {
            System.arraycopy(prompts[b], 0, tokens, b * t, t);
            tables[b] = KvCache.consecutiveBlocks(b * perSequence, t);
        }
        try (KvCache cache = model.lm().newCache(n * perSequence); NDManager step = model.newStepManager()) {
            return forward(new StepBatch(tokens, n, t, new int[n], tables), cache, step).toFloatArray();
        }
    }

    /** softmax of the logits after the whole sequence, computed in one prefill pass. */
    float[] nextTokenProbabilities(int[] ids) {
        int[] blocks = KvCache.consecutiveBlocks(0, ids.length);
        try (KvCache cache = model.lm().newCache(blocks.length); NDManager step = model.newStepManager()) {
            return forward(StepBatch.single(ids, 0, blocks), cache, step).softmax(-1).toFloatArray();
        }
    }

    /** Probabilities after the sequence when it is fed one token per step (exercises the KV cache). */
    float[] nextTokenProbabilitiesIncremental(int[] ids) {
        int[] blocks = KvCache.consecutiveBlocks(0, ids.length);
        try (KvCache cache = model.lm().newCache(blocks.length)) {
            float[] probs = null;
            for (int i = 0; i < ids.length; i++) {
                try (NDManager step = model.newStepManager()) {
                    probs = forward(StepBatch.single(new int[] {ids[i]}, i, blocks), cache, step)
                            .softmax(-1).toFloatArray();
                }
            }
            return probs;
        }
    }

    int[] greedy(int[] prompt, int n) {
        SamplingParams greedy = SamplingParams.greedy().withMaxTokens(n).withIgnoreEos(true);
        GenerationResult result = new Generator(model).generate(prompt, greedy, (text, token) -> {});
        return result.tokenIds();
    }

    @Override
    public void close() {
        model.close();
    }
}
