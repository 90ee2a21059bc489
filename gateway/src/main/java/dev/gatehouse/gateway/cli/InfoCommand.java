package dev.gatehouse.gateway.cli;

import ai.djl.engine.Engine;
import dev.gatehouse.serving.engine.TorchBuild;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.util.concurrent.Callable;

/** {@code gatehouse info}: which engine and devices this installation runs on (loads libtorch). */
@Command(name = "info", mixinStandardHelpOptions = true, description = "Show the engine version and the devices it sees.")
public final class InfoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        Engine engine = TorchBuild.engine();
        spec.commandLine().getOut().printf("engine: %s %s%nlibtorch: %s (%s build)%ncuda usable: %s%njava: %s%n",
                engine.getEngineName(), engine.getVersion(), TorchBuild.libtorchPath(),
                TorchBuild.isCudaBuild() ? "CUDA" : "CPU", TorchBuild.cudaAvailable() ? "yes" : "no", Runtime.version());
        return 0;
    }
}
