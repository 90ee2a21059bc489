package dev.gatehouse.serving.engine;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import dev.gatehouse.serving.arch.CausalLM;
import dev.gatehouse.serving.arch.Gpt2;
import dev.gatehouse.serving.arch.Llama;
import dev.gatehouse.serving.arch.WeightLoader;
import dev.gatehouse.serving.constrain.Constraints;
import dev.gatehouse.serving.load.GenerationConfig;
import dev.gatehouse.serving.load.ModelConfig;
import dev.gatehouse.serving.load.ModelLoadException;
import dev.gatehouse.serving.load.ModelWeights;
import dev.gatehouse.serving.load.Safetensors;
import dev.gatehouse.serving.text.ChatTemplate;
import dev.gatehouse.serving.text.Tokenizer;
import dev.gatehouse.serving.text.TokenizerConfig;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.IntStream;

/** A model folder loaded and ready to generate: weights on a device, tokenizer, chat template, stop ids. */
public final class LocalModel implements AutoCloseable {
    private final String name;
    private final CausalLM lm;
    private final Tokenizer tokenizer;
    private final TokenizerConfig tokenizerConfig;
    private final ChatTemplate chatTemplate;
    private final Set<Integer> eosTokenIds;
    private final NDManager manager;
    private final DtypeChoice.Resolved dtype;
    private final Constraints constraints;

    private LocalModel(String name, CausalLM lm, Tokenizer tokenizer, TokenizerConfig tokenizerConfig,
                       Set<Integer> eosTokenIds, NDManager manager, DtypeChoice.Resolved dtype, Constraints constraints) {
        this.name = name;
        this.lm = lm;
        this.tokenizer = tokenizer;
        this.tokenizerConfig = tokenizerConfig;
        this.chatTemplate = ChatTemplate.of(name, tokenizerConfig);
        this.eosTokenIds = eosTokenIds;
        this.manager = manager;
        this.dtype = dtype;
        this.constraints = constraints;
    }

    /**
     * A plain (not chat) prompt as token ids, with the special tokens transformers adds to it.
     * tokenizer.json's post-processor decides, unless tokenizer_config.json sets
     * {@code add_bos_token} or {@code add_eos_token}: then, as transformers' LlamaTokenizerFast
     * (and every fast tokenizer since transformers 5) rebuilds the post-processor from them, the
     * prompt is {@code [bos if add_bos_token] text [eos if add_eos_token]}; a flag left out keeps
     * what the post-processor does with that token.
     *
     * @throws IllegalArgumentException when the text is empty: there is nothing to continue
     */
    public int[] encodePrompt(String text) {
        if (text.isEmpty()) {
            throw new IllegalArgumentException("prompt is empty");
        }
        Boolean addBos = tokenizerConfig.addBosToken();
        Boolean addEos = tokenizerConfig.addEosToken();
        int[] withSpecials = tokenizer.encode(text, true);
        if (addBos == null && addEos == null) {
            return withSpecials;
        }
        int[] plain = tokenizer.encode(text, false);
        Integer bos = singleToken(tokenizerConfig.bosToken());
        Integer eos = singleToken(tokenizerConfig.eosToken());
        boolean bosFirst = bos != null && (addBos != null ? addBos
                : withSpecials.length > plain.length && withSpecials[0] == bos);
        boolean eosLast = eos != null && (addEos != null ? addEos
                : withSpecials.length > plain.length && withSpecials[withSpecials.length - 1] == eos);
        IntStream ids = IntStream.of(plain);
        if (bosFirst) {
            ids = IntStream.concat(IntStream.of(bos), ids);
        }
        if (eosLast) {
            ids = IntStream.concat(ids, IntStream.of(eos));
        }
        return ids.toArray();
    }

    /** The id of a special token given as text, or null when there is none or it is not one token. */
    private Integer singleToken(String text) {
        if (text == null) {
            return null;
        }
        int[] ids = tokenizer.encode(text, false);
        return ids.length == 1 ? ids[0] : null;
    }

    /** Loads with the compute type chosen for the device ({@link DtypeChoice#AUTO}). */
    public static LocalModel load(Path folder, DeviceChoice deviceChoice) {
        return load(folder, deviceChoice, DtypeChoice.AUTO);
    }

    /** Loads with the compute type chosen, 16-bit checkpoints kept 16-bit on the CPU ({@link WeightsDtype#AUTO}). */
    public static LocalModel load(Path folder, DeviceChoice deviceChoice, DtypeChoice dtypeChoice) {
        return load(folder, deviceChoice, dtypeChoice, WeightsDtype.AUTO);
    }

    public static LocalModel load(Path folder, DeviceChoice deviceChoice, DtypeChoice dtypeChoice, WeightsDtype weightsDtype) {
        if (!Files.isDirectory(folder)) {
            throw new ModelLoadException("model folder " + folder
                    + (Files.exists(folder) ? " is not a folder" : " does not exist"));
        }
        // the small files first: a typo in one is reported before any weights are read
        ModelConfig config = ModelConfig.load(folder);
        GenerationConfig generationConfig = GenerationConfig.load(folder);
        TokenizerConfig tokenizerConfig = tokenizerFile(() -> TokenizerConfig.load(folder));
        ModelWeights weights = ModelWeights.open(folder);
        Tokenizer tokenizer = tokenizerFile(() -> Tokenizer.load(folder));
        NDManager manager = null;
        try {
            Device device = deviceChoice.resolve();
            Safetensors.DType stored = storedType(weights);
            DtypeChoice.Resolved dtype = dtypeChoice.resolve(config.architecture(), stored, device.isGpu());
            boolean keepStored = weightsDtype.keepsStored(stored, dtype, device.isGpu());
            if (keepStored) {
                dtype = new DtypeChoice.Resolved(dtype.type(), dtype.why() + "; " + stored + " weights kept as stored");
            }
            manager = NDManager.newBaseManager(device, "PyTorch");
            WeightLoader loader = new WeightLoader(weights, manager, dtype.type(), keepStored);
            CausalLM lm = switch (config.family()) {
                case LLAMA -> new Llama(config, loader);
                case GPT2 -> new Gpt2(config, loader);
            };
            Set<Integer> eos = new LinkedHashSet<>(generationConfig.eosTokenIds());
            eos.addAll(config.eosTokenIds());
            if (tokenizerConfig.eosToken() != null) {
                int[] ids = tokenizer.encode(tokenizerConfig.eosToken(), false);
                if (ids.length == 1) {
                    eos.add(ids[0]);
                }
            }
            Set<Integer> eosIds = Set.copyOf(eos);
            return new LocalModel(folder.getFileName().toString(), lm, tokenizer, tokenizerConfig, eosIds, manager, dtype,
                    Constraints.forTokenizer(folder.resolve("tokenizer.json"), eosIds));
        } catch (RuntimeException e) {
            if (manager != null) {
                manager.close();
                if (manager.getDevice().isGpu()) {
                    GpuMemory.release();
                }
            }
            tokenizer.close();
            if (GpuMemory.isOutOfMemory(e)) {
                throw new ModelLoadException("out of " + deviceName(manager.getDevice()) + " memory loading the weights of "
                        + folder.getFileName() + " (" + GpuMemory.firstLine(e) + "); use another GPU (local.NAME.device) "
                        + "or a smaller dtype (local.NAME.dtype: float16)", e);
            }
            throw e;
        }
    }

    /**
     * The text package reports a bad tokenizer file as IllegalArgumentException (or
     * UncheckedIOException) naming the file; loading a folder reports every bad file the same way.
     */
    private static <T> T tokenizerFile(Supplier<T> load) {
        try {
            return load.get();
        } catch (IllegalArgumentException | UncheckedIOException e) {
            throw new ModelLoadException(e.getMessage(), e);
        }
    }

    /** The checkpoint's float type, as its first tensor stores it. */
    private static Safetensors.DType storedType(ModelWeights weights) {
        return weights.storedType(weights.names().iterator().next());
    }

    public String name() {
        return name;
    }

    /** The type the model computes in, and why it was chosen. */
    public DtypeChoice.Resolved dtype() {
        return dtype;
    }

    /** Where the weights live. */
    public Device device() {
        return manager.getDevice();
    }

    /** The device as --device spells it: cpu or cuda:N. */
    public String deviceName() {
        return deviceName(manager.getDevice());
    }

    static String deviceName(Device device) {
        return device.isGpu() ? "cuda:" + device.getDeviceId() : "cpu";
    }

    public CausalLM lm() {
        return lm;
    }

    public ModelConfig config() {
        return lm.config();
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public TokenizerConfig tokenizerConfig() {
        return tokenizerConfig;
    }

    public ChatTemplate chatTemplate() {
        return chatTemplate;
    }

    public Set<Integer> eosTokenIds() {
        return eosTokenIds;
    }

    /** Grammars for constrained answers (JSON output, forced tool calls) over this model's vocabulary. */
    public Constraints constraints() {
        return constraints;
    }

    /** A sub-manager on the model's device for one step's intermediates. */
    public NDManager newStepManager() {
        return manager.newSubManager();
    }

    @Override
    public void close() {
        lm.close(); // closes the manager it was built on
        tokenizer.close();
        if (manager.getDevice().isGpu()) {
            GpuMemory.release(); // PyTorch would keep the freed weights' blocks cached for itself
        }
    }
}
