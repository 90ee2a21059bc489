package dev.gatehouse.gateway.cli;

import ai.djl.engine.Engine;
import ai.djl.huggingface.tokenizers.jni.LibUtils;
import ai.djl.util.Utils;
import dev.gatehouse.serving.engine.TorchBuild;
import dev.gatehouse.serving.engine.HostMemory;
import dev.gatehouse.serving.engine.MemoryEstimate;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.util.concurrent.Callable;

/** {@code gatehouse info}: which engine and devices this installation runs on (loads libtorch and the tokenizers library). */
@Command(name = "info", mixinStandardHelpOptions = true, description = "Show the engine version and the devices it sees.")
public final class InfoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        Engine engine = TorchBuild.engine();
        LibUtils.checkStatus(); // loads (and on first use extracts) the tokenizers library, as an image build needs
        spec.commandLine().getOut().printf("engine: %s %s%nlibtorch: %s (%s build)%ncuda usable: %s%n"
                        + "tokenizers: %s%njava: %s%nmemory for models: %s%n",
                engine.getEngineName(), engine.getVersion(), TorchBuild.libtorchPath(),
                TorchBuild.isCudaBuild() ? "CUDA" : "CPU", TorchBuild.cudaAvailable() ? "yes" : "no",
                "native library loaded (" + Utils.getEnvOrSystemProperty("RUST_FLAVOR") + " build)",
                Runtime.version(), HostMemory.read().map(m -> MemoryEstimate.gb(m.availableBytes()) + " free (" + m.source() + ")")
                        .orElse("not measurable here (no /proc/meminfo): models are loaded unchecked"));
        return 0;
    }
}
