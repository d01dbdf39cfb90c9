package io.github.hunyuanvideo.cli;

import io.github.hunyuanvideo.sampler.SamplerConfig;
import picocli.CommandLine;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/**
 * Parses {@code --lora FILE[:SCALE]} (scale 1.0 when absent) while the command line is parsed, so that a missing
 * file or a bad scale fails before any model loads. The scale follows the last colon, unless the whole value names
 * an existing file (a file name may hold colons).
 */
final class LoraOption implements CommandLine.ITypeConverter<SamplerConfig.Lora> {
    @Override
    public SamplerConfig.Lora convert(String value) {
        if (isFile(value)) {
            return new SamplerConfig.Lora(Path.of(value), 1.0);
        }
        int colon = value.lastIndexOf(':');
        String file = colon < 0 ? value : value.substring(0, colon);
        double scale;
        try {
            scale = colon < 0 ? 1.0 : Double.parseDouble(value.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new CommandLine.TypeConversionException(isFile(file) ? "scale '" + value.substring(colon + 1)
                    + "' of '" + value + "' is not a number (FILE[:SCALE])" : noSuchFile(value, value));
        }
        if (!Double.isFinite(scale)) {
            throw new CommandLine.TypeConversionException("scale '" + value.substring(colon + 1) + "' of '" + value
                    + "' is not finite");
        }
        if (!isFile(file)) {
            throw new CommandLine.TypeConversionException(noSuchFile(file, value));
        }
        return new SamplerConfig.Lora(Path.of(file), scale);
    }

    private static boolean isFile(String path) {
        try {
            return !path.isEmpty() && Files.isRegularFile(Path.of(path));
        } catch (InvalidPathException e) {
            return false;
        }
    }

    private static String noSuchFile(String file, String value) {
        return "no such file '" + file + "'" + (file.equals(value) ? "" : " (the FILE of '" + value + "')");
    }
}
