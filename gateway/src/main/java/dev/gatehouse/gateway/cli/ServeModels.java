package dev.gatehouse.gateway.cli;

import dev.gatehouse.gateway.hub.HubClient;
import dev.gatehouse.gateway.hub.ModelPull;
import dev.gatehouse.gateway.hub.Progress;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The models named on {@code serve}'s command line, as vLLM takes them: a store name, a folder in the
 * store, or a Hugging Face Hub id (ORG/NAME) that is pulled into the store first unless it is there.
 */
final class ServeModels {
    /** The one line a user with no model at all is told. */
    static final String HOW_TO_GET_ONE = "no models in the model store: serve one from the Hugging Face Hub with "
            + "`scripts/gatehouse serve HuggingFaceTB/SmolLM2-135M-Instruct` (it is downloaded first)";

    private static final Pattern HUB_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*");

    /** A model to serve: its store folder name, and the Hub id it also answers to (null for none). */
    record Named(String name, String alias) {}

    private ServeModels() {}

    /** Resolves one command-line model, pulling a Hub id that is not in {@code store} when {@code pull} is set. */
    static Named resolve(String model, Path store, boolean pull, HubClient hub, Progress progress) throws IOException {
        if (!model.contains("/") && !model.startsWith(".") && Files.isDirectory(store.resolve(model))) {
            return new Named(model, null);
        }
        Path folder = Path.of(model);
        if (Files.isDirectory(folder)) {
            Path parent = folder.toAbsolutePath().normalize().getParent();
            if (parent != null && parent.equals(store.toAbsolutePath().normalize())) {
                return new Named(folder.getFileName().toString(), null);
            }
            throw new IllegalArgumentException("serve takes models from the model store " + store.toAbsolutePath()
                    + ": to serve the folder " + model + ", add --model-store " + (parent == null ? "." : parent));
        }
        if (!HUB_ID.matcher(model).matches()) {
            throw new IllegalArgumentException("model '" + model + "' is neither in the model store "
                    + store.toAbsolutePath() + " nor a Hugging Face Hub id (ORG/NAME)");
        }
        String name = ModelPull.folderName(model, null);
        if (!Files.isDirectory(store.resolve(name))) {
            if (!pull) {
                throw new IllegalArgumentException(model + " is not in the model store " + store.toAbsolutePath()
                        + " and --no-pull is set: pull it with `gatehouse models pull " + model + "`");
            }
            new ModelPull(hub, progress).pull(new ModelPull.Request(model, "main", List.of(), List.of(), store, null));
        }
        return new Named(name, model);
    }
}
