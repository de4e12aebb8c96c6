// libFuzzer: the dataset importers' reading and conversion. The first byte picks the
// format (JSON Lines, JSON array, CSV, TSV, text); the rest is the file. Every record
// read is converted with every layout its keys match, as an import would.
#include "fuzz_input.h"
#include "data/import_layouts.h"
#include "data/importer.h"
#include "data/record_reader.h"
#include "data/records.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size == 0)
        return 0;
    using ft::data::SourceFormat;
    static const SourceFormat kFormats[] = {SourceFormat::Jsonl, SourceFormat::JsonArray, SourceFormat::Csv,
                                            SourceFormat::Tsv, SourceFormat::Text};
    const SourceFormat format = kFormats[data[0] % 5];
    static ftfuzz::MemFile file;
    const std::string& path = file.write(data + 1, size - 1);
    ftfuzz::expectOnlyFtErrors([&] {
        ft::data::RecordReader reader(path, format, 1 << 16);
        ft::data::RawRecord record;
        ft::data::ImportOptions options;
        for (int n = 0; n < 10000 && reader.next(record); ++n) {
            if (!record.error.empty() || !record.value.is_object())
                continue;
            std::vector<std::string> keys;
            for (const auto& [key, value] : record.value.items())
                keys.push_back(key);
            for (const auto layout : ft::data::matchingLayouts(keys)) {
                ft::data::Row row;
                (void)ft::data::convertRecord(layout, record.value, reader.cellsAreText(), options, row);
            }
        }
    });
    return 0;
}
