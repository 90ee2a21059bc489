package dev.gatehouse.gateway.cli;

import picocli.CommandLine.Command;

/** {@code gatehouse models pull|list|rm|verify}: the model store, like {@code ollama pull} / {@code ollama list}. */
@Command(name = "models", mixinStandardHelpOptions = true, description = "Download and manage models in the model store.",
        subcommands = {ModelsPullCommand.class, ModelsListCommand.class, ModelsRmCommand.class, ModelsVerifyCommand.class})
public final class ModelsCommand {
}
