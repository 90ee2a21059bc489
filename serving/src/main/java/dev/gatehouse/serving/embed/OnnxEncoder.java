package dev.gatehouse.serving.embed;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.translate.NoopTranslator;
import ai.djl.translate.TranslateException;
import dev.gatehouse.serving.load.ModelLoadException;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A BERT-style encoder exported to ONNX (as Hugging Face's optimum exports it: inputs
 * {@code input_ids}, {@code attention_mask} and optionally {@code token_type_ids}; first output
 * the last hidden state), run by DJL's OnnxRuntime engine on the CPU. Its output is copied into a
 * PyTorch array so that pooling is the same code for both engines.
 */
public final class OnnxEncoder implements Encoder {
    private final Model model;
    private final Predictor<NDList, NDList> predictor;
    private final List<String> inputNames;
    private final int hiddenSize;
    private final int vocabSize;
    private final NDManager torch = NDManager.newBaseManager(Device.cpu(), "PyTorch");

    private OnnxEncoder(Model model, List<String> inputNames, int hiddenSize, int vocabSize) {
        this.model = model;
        this.predictor = model.newPredictor(new NoopTranslator());
        this.inputNames = inputNames;
        this.hiddenSize = hiddenSize;
        this.vocabSize = vocabSize;
    }

    public static OnnxEncoder load(Path file, int hiddenSize, int vocabSize) {
        Model model = Model.newInstance(file.getFileName().toString(), "OnnxRuntime");
        try {
            model.load(file);
            List<String> names = model.getBlock().describeInput().keys();
            for (String name : names) {
                if (!List.of("input_ids", "attention_mask", "token_type_ids").contains(name)) {
                    throw new ModelLoadException(file + " takes an input '" + name + "'; Gatehouse feeds input_ids, attention_mask and token_type_ids");
                }
            }
            return new OnnxEncoder(model, names, hiddenSize, vocabSize);
        } catch (IOException | MalformedModelException | RuntimeException e) {
            model.close();
            throw e instanceof ModelLoadException m ? m : new ModelLoadException("cannot load " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public int hiddenSize() {
        return hiddenSize;
    }

    @Override
    public int vocabSize() {
        return vocabSize;
    }

    @Override
    public NDManager newStepManager() {
        return torch.newSubManager();
    }

    @Override
    public NDArray forward(long[][] ids, long[][] mask, NDManager step) {
        int b = ids.length;
        int t = ids[0].length;
        try (NDManager ort = model.getNDManager().newSubManager()) {
            NDList inputs = new NDList();
            for (String name : inputNames) {
                NDArray input = switch (name) {
                    case "input_ids" -> ort.create(ids);
                    case "attention_mask" -> ort.create(mask);
                    default -> ort.zeros(new Shape(b, t), DataType.INT64); // one sentence per input
                };
                input.setName(name);
                inputs.add(input);
            }
            NDList outputs = predictor.predict(inputs);
            float[] hidden = outputs.get(0).toFloatArray();
            outputs.close();
            return step.create(hidden, new Shape(b, t, hiddenSize));
        } catch (TranslateException e) {
            throw new IllegalStateException("ONNX Runtime failed on a batch of " + b + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        predictor.close();
        model.close();
        torch.close();
    }
}
