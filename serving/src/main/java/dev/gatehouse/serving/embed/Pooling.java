package dev.gatehouse.serving.embed;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;

/**
 * How sentence-transformers turns per-token hidden states into one vector. Padding never counts:
 * every mode reads the attention mask.
 */
public enum Pooling {
    /** Average of the real tokens (sentence-transformers' default). */
    MEAN,
    /** The first token's state ([CLS]). */
    CLS,
    /** Element-wise maximum over the real tokens. */
    MAX;

    /**
     * @param hidden [batch, tokens, hidden]
     * @param mask [batch, tokens], 1 for a real token and 0 for padding, same type as hidden
     * @return [batch, hidden]
     */
    public NDArray pool(NDArray hidden, NDArray mask) {
        NDArray m = mask.expandDims(-1);
        return switch (this) {
            case MEAN -> hidden.mul(m).sum(new int[] {1}).div(m.sum(new int[] {1}).maximum(1e-9));
            case CLS -> hidden.get(new NDIndex(":, 0"));
            // sentence-transformers sets padded states to -1e9 before the maximum
            case MAX -> hidden.add(m.sub(1).mul(1e9)).max(new int[] {1});
        };
    }

    /** Divides each row by its L2 norm, as torch.nn.functional.normalize (eps 1e-12). */
    public static NDArray normalize(NDArray x) {
        return x.div(x.norm(new int[] {-1}, true).maximum(1e-12));
    }
}
