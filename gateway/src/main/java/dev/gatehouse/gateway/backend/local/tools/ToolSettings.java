package dev.gatehouse.gateway.backend.local.tools;

/**
 * How one local model serves tools ({@code local.NAME} in gatehouse.yaml).
 *
 * @param parser {@code tool-parser}: the call format to parse; null = chosen from the template and tokenizer
 * @param refuseWithoutTemplate {@code tool-fallback: refuse}: a model whose template has no tool support
 *     declines tool requests (a 400, or the router's next target) instead of getting the tools in a system message
 */
public record ToolSettings(ToolFormat parser, boolean refuseWithoutTemplate) {
    public static final ToolSettings DEFAULTS = new ToolSettings(null, false);
}
