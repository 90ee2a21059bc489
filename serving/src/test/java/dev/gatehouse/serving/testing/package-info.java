/**
 * Test infrastructure for checking the engine against independent implementations.
 *
 * <ul>
 *   <li>{@link dev.gatehouse.serving.testing.TestModelFolder}: writes small random-weight model
 *       folders in the Hugging Face layout (llama, mistral, qwen2, qwen3, gpt2; F32/F16/BF16; tied or
 *       not; sharded or not) and exposes the exactly widened stored values.
 *   <li>{@link dev.gatehouse.serving.testing.JlamaOracle}: next-token probabilities and greedy
 *       continuations computed by Jlama 0.8.4 (llama, mistral, qwen2, gpt2; F32/F16).
 *   <li>{@link dev.gatehouse.serving.testing.ReferenceModel}: a float64 forward pass from the published
 *       formulas (all five architectures, any dtype, llama3 rope scaling, custom head_dim); agrees with
 *       Jlama to about 2e-6 in probability where both run.
 *   <li>{@link dev.gatehouse.serving.testing.SafetensorsWriter} / {@link dev.gatehouse.serving.testing.SafetensorsReader}:
 *       minimal, strict safetensors I/O.
 *   <li>{@link dev.gatehouse.serving.testing.OnnxWeights}: the float initializers of an .onnx file (real
 *       weights to write as safetensors), read from the protobuf wire format.
 * </ul>
 *
 * Typical engine test:
 * <pre>{@code
 * TestModelFolder f = TestModelFolder.qwen2().dtype(TensorDtype.F32).seed(3);
 * Path dir = f.write(tempDir);
 * try (JlamaOracle oracle = JlamaOracle.load(dir)) {           // or ReferenceModel.load(dir)
 *     int[] prompt = TokenOracle.findClearPrompt(oracle, s -> f.randomTokens(8, s), 32, 0.1, 100);
 *     int[] expected = oracle.greedy(prompt, 32);             // compare with the engine's greedy ids
 *     float[] p = oracle.nextTokenProbabilities(prompt);      // probabilities, not logits
 * }
 * }</pre>
 */
package dev.gatehouse.serving.testing;
