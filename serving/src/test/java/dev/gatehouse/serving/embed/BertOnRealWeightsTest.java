package dev.gatehouse.serving.embed;

import ai.djl.Device;
import dev.gatehouse.serving.testing.OnnxWeights;
import dev.gatehouse.serving.testing.SafetensorsWriter;
import dev.gatehouse.serving.testing.TensorDtype;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The PyTorch BERT path on real weights, judged by an independent implementation: the
 * all-MiniLM-L6-v2 ONNX export's initializers are the model's BERT weights, so they are written
 * out as a Hugging Face safetensors folder (sentence-transformers layout) and the vectors Gatehouse's
 * own {@link Bert} gives must match what ONNX Runtime gives on the original graph. (Measured:
 * cosine distances around 1e-13, i.e. float32 rounding; skipping the MatMul transpose fails it.)
 */
class BertOnRealWeightsTest {
    private static final double MAX_COSINE_DISTANCE = 1e-4;

    @TempDir
    static Path dir;
    static EmbeddingModel onnx;
    static EmbeddingModel torch;

    @BeforeAll
    static void load() throws IOException {
        onnx = AllMiniLmL6V2.load(dir.resolve("cache"));
        Path extracted = dir.resolve("cache").resolve(AllMiniLmL6V2.NAME);
        Path folder = writeSafetensorsFolder(extracted, dir.resolve("minilm-safetensors"));
        torch = EmbeddingModel.load(folder, Device.cpu());
    }

    @AfterAll
    static void close() {
        if (torch != null) torch.close();
        if (onnx != null) onnx.close();
    }

    @Test
    void pytorchBertGivesTheVectorsOnnxRuntimeGives() {
        List<String> sentences = List.of("A man is eating food.", "A man is eating a piece of bread.",
                "The new movie is awesome", "Two men pushed carts through the woods.", "x",
                "Gatehouse serves embeddings next to chat, offline, with the weights on Maven Central. ".repeat(30));
        List<int[]> inputs = sentences.stream().map(torch::tokenize).toList();
        assertEquals(256, inputs.getLast().length, "the long sentence is cut at max_seq_length");
        // one padded batch each, so attention masks are exercised too
        float[][] expected = onnx.embed(inputs);
        float[][] actual = torch.embed(inputs);
        for (int i = 0; i < inputs.size(); i++) {
            assertEquals(384, actual[i].length);
            double d = BertTest.cosineDistance(BertTest.toDouble(expected[i]), BertTest.toDouble(actual[i]));
            assertTrue(d <= MAX_COSINE_DISTANCE, "'" + sentences.get(i).substring(0, Math.min(40, sentences.get(i).length()))
                    + "': cosine distance " + d);
            assertEquals(1.0, BertTest.norm(actual[i]), 1e-5);
        }
    }

    @Test
    void bothPathsTokenizeAlike() {
        String s = "Embeddings equal what sentence-transformers gives.";
        assertEquals(List.of(toList(onnx.tokenize(s))), List.of(toList(torch.tokenize(s))));
    }

    /**
     * Initializers named after the PyTorch module keep their names; MatMul weights (named
     * {@code onnx::MatMul_N} by the exporter) take the name of the Linear whose output they feed and
     * are transposed, since the graph computes {@code x @ W} with W [in, out] where a Linear stores [out, in].
     */
    private static Path writeSafetensorsFolder(Path extracted, Path folder) throws IOException {
        OnnxWeights onnxWeights = OnnxWeights.read(extracted.resolve("model.onnx"));
        List<SafetensorsWriter.Tensor> tensors = new ArrayList<>();
        for (OnnxWeights.Tensor t : onnxWeights.tensors.values()) {
            String output = onnxWeights.matMulOutputs.get(t.name());
            if (output == null) {
                tensors.add(new SafetensorsWriter.Tensor(t.name(), TensorDtype.F32, t.dims(), t.values()));
            } else {
                // "/encoder/layer.0/attention/self/query/MatMul_output_0" -> "encoder.layer.0.attention.self.query.weight"
                String linear = output.substring(1, output.lastIndexOf("/MatMul")).replace('/', '.');
                tensors.add(transposed(linear + ".weight", t));
            }
        }
        SafetensorsWriter.write(folder.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
        Files.copy(extracted.resolve("tokenizer.json"), folder.resolve("tokenizer.json"));
        // all-MiniLM-L6-v2's published config.json and sentence-transformers files
        Files.writeString(folder.resolve("config.json"), """
                {"architectures": ["BertModel"], "model_type": "bert", "hidden_size": 384, "num_hidden_layers": 6,
                 "num_attention_heads": 12, "intermediate_size": 1536, "hidden_act": "gelu", "vocab_size": 30522,
                 "max_position_embeddings": 512, "type_vocab_size": 2, "layer_norm_eps": 1e-12, "pad_token_id": 0}
                """);
        Files.writeString(folder.resolve("modules.json"), """
                [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                 {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
                 {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}]
                """);
        Files.createDirectories(folder.resolve("1_Pooling"));
        Files.writeString(folder.resolve("1_Pooling/config.json"), """
                {"word_embedding_dimension": 384, "pooling_mode_cls_token": false, "pooling_mode_mean_tokens": true,
                 "pooling_mode_max_tokens": false, "pooling_mode_mean_sqrt_len_tokens": false}
                """);
        Files.writeString(folder.resolve("sentence_bert_config.json"), """
                {"max_seq_length": 256, "do_lower_case": false}
                """);
        return folder;
    }

    private static SafetensorsWriter.Tensor transposed(String name, OnnxWeights.Tensor t) {
        int rows = (int) t.dims()[0], cols = (int) t.dims()[1];
        float[] v = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                v[c * rows + r] = t.values()[r * cols + c];
            }
        }
        return new SafetensorsWriter.Tensor(name, TensorDtype.F32, new long[] {cols, rows}, v);
    }

    private static List<Integer> toList(int[] ids) {
        return java.util.Arrays.stream(ids).boxed().toList();
    }
}
