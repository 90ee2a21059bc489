package dev.gatehouse.gateway.cli;

import dev.gatehouse.gateway.hub.HubClient;
import dev.gatehouse.gateway.hub.ModelPull;
import dev.gatehouse.gateway.hub.Progress;
import dev.gatehouse.gateway.hub.ServableCheck;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code gatehouse models pull ORG/NAME}: download a model from the Hugging Face Hub (or $HF_ENDPOINT). */
@Command(name = "pull", mixinStandardHelpOptions = true,
        description = {"Download a model from the Hugging Face Hub ($HF_ENDPOINT, default https://huggingface.co) "
                + "into the model store. Resumes an interrupted pull; the model appears only when complete.",
                "By default only what serving needs: " + "config.json, generation_config.json, tokenizer files, "
                        + "*.safetensors and their index, sentence-transformers pooling config."})
public final class ModelsPullCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "ORG/NAME", description = "Hub repository, e.g. Qwen/Qwen2.5-0.5B-Instruct.")
    String repo;

    @Option(names = "--revision", defaultValue = "main", description = "Branch, tag or commit (default: ${DEFAULT-VALUE}).")
    String revision;

    @Option(names = "--include", paramLabel = "GLOB", description = "Also download files matching GLOB (e.g. '*.bin', 'onnx/*'); repeatable.")
    List<String> include = new ArrayList<>();

    @Option(names = "--exclude", paramLabel = "GLOB", description = "Skip files matching GLOB; repeatable.")
    List<String> exclude = new ArrayList<>();

    @Mixin
    ModelStore store;

    @Option(names = "--name", paramLabel = "LOCAL", description = "Folder name in the store (default: ORG--NAME).")
    String name;

    @Option(names = "--token", description = "Hub access token for gated or private repositories (default: $HF_TOKEN).")
    String token;

    @Override
    public Integer call() throws Exception {
        Progress progress = Progress.forConsole(spec.commandLine().getOut());
        Path folder = new ModelPull(HubClient.fromEnvironment(token), progress)
                .pull(new ModelPull.Request(repo, revision, include, exclude, store.root(), name));
        String warning = ServableCheck.warning(folder);
        if (warning != null) {
            spec.commandLine().getErr().println(warning);
        }
        return 0;
    }
}
