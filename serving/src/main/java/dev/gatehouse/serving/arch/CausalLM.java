package dev.gatehouse.serving.arch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.gatehouse.serving.load.ModelConfig;

/** A decoder-only language model: new tokens in, next-token logits out, past keys and values in a {@link KvCache}. */
public interface CausalLM extends AutoCloseable {

    ModelConfig config();

    /** The dtype weights, activations and the cache use on this model's device. */
    DataType dtype();

    /** A cache of {@code blocks} blocks of {@link KvCache#BLOCK_SIZE} positions, shared by the sequences it serves. */
    KvCache newCache(int blocks);

    /**
     * Runs the batch's new tokens through the model, storing their keys and values in the cache.
     * Everything it creates lives in {@code step}, which the caller closes after the step.
     *
     * @return FP32 logits [batchSize, vocab] for the last new token of each sequence
     */
    NDArray forward(StepBatch batch, KvCache cache, NDManager step);

    /**
     * {@link #forward} as a pass the caller advances slice by slice. Here one slice is the whole pass;
     * a model whose step can pause between layers (the Llama family's step in Java) overrides it.
     */
    default ForwardPass start(StepBatch batch, KvCache cache, NDManager step) {
        return new ForwardPass() {
            private NDArray logits;

            @Override
            public boolean advance() {
                logits = forward(batch, cache, step);
                return true;
            }

            @Override
            public NDArray logits() {
                return logits;
            }
        };
    }

    @Override
    void close();
}
