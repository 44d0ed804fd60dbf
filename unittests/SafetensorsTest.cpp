//===- SafetensorsTest.cpp - The one implementation of checkpoint files ---===//
//
// graft_safetensors.c, which graft_save/graft_load and graft train's
// checkpoints share: what graft_st_header writes graft_st_read reads back,
// and each damage it must refuse is refused with its own message.
//
//===----------------------------------------------------------------------===//

#include "graft_safetensors.h"

#include "gtest/gtest.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

/// A file of `tensors` and `meta`, as graft_save writes it.
std::string fileOf(const std::vector<graft_st_tensor> &tensors,
                   const std::vector<graft_st_meta> &meta) {
  size_t len = 0;
  unsigned char *header =
      graft_st_header(tensors.data(), static_cast<int32_t>(tensors.size()),
                      meta.data(), static_cast<int32_t>(meta.size()), &len);
  EXPECT_NE(header, nullptr);
  std::string file(reinterpret_cast<char *>(header), len);
  std::free(header);
  for (const graft_st_tensor &t : tensors)
    file.append(static_cast<const char *>(t.data), t.nbytes);
  return file;
}

/// A file of a header written by hand (no checksum) and `data`.
std::string rawFile(const std::string &json, const std::string &data) {
  std::string file(8, '\0');
  for (int k = 0; k < 8; ++k)
    file[k] = static_cast<char>((json.size() >> (8 * k)) & 0xff);
  return file + json + data;
}

/// graft_st_read's message for `file`, "" when it reads.
std::string errorOf(const std::string &file) {
  graft_st_file f{};
  char err[512] = "";
  int r = graft_st_read(reinterpret_cast<const unsigned char *>(file.data()),
                        file.size(), &f, err, sizeof err);
  if (r == GRAFT_ST_OK)
    graft_st_free(&f);
  return r == GRAFT_ST_OK ? "" : err;
}

const float kWeights[6] = {1, 2, 3, 4, 5, 6};
const double kStep[1] = {7};
const int64_t kShape23[] = {2, 3};

TEST(Safetensors, WhatIsWrittenReadsBack) {
  // A tied parameter under two names, a prefixed optimizer state, names
  // and metadata that need JSON escapes.
  std::vector<graft_st_tensor> tensors = {
      {"", "fc.weight", "F32", 2, kShape23, kWeights, sizeof kWeights},
      {"", "head.\"weight\"", "F32", 2, kShape23, kWeights, sizeof kWeights},
      {"optimizer.", "step", "F64", 0, nullptr, kStep, sizeof kStep}};
  std::vector<graft_st_meta> meta = {{"", "graft.model", "m"},
                                     {"user.", "note", "a\\b\n\"c\""}};
  std::string file = fileOf(tensors, meta);
  // The header (after the length) is padded to 8 bytes.
  EXPECT_EQ((file.size() - sizeof kWeights * 2 - sizeof kStep) % 8, 0u);

  graft_st_file f{};
  char err[512] = "";
  ASSERT_EQ(graft_st_read(reinterpret_cast<const unsigned char *>(file.data()),
                          file.size(), &f, err, sizeof err),
            GRAFT_ST_OK)
      << err;
  ASSERT_EQ(f.nentries, 3);
  EXPECT_STREQ(f.entries[1].name, "head.\"weight\"");
  EXPECT_STREQ(f.entries[2].name, "optimizer.step");
  EXPECT_STREQ(f.entries[2].dtype, "F64");
  EXPECT_EQ(f.entries[2].rank, 0);
  ASSERT_EQ(f.entries[0].rank, 2);
  EXPECT_EQ(f.entries[0].shape[1], 3);
  for (int i = 0; i < 2; ++i) {
    const graft_st_entry &e = f.entries[i];
    ASSERT_EQ(e.end - e.begin, sizeof kWeights);
    EXPECT_EQ(std::memcmp(file.data() + e.begin, kWeights, sizeof kWeights), 0);
  }
  // The checksum first, then the metadata in order.
  ASSERT_EQ(f.nmeta, 3);
  EXPECT_STREQ(f.meta[0], "graft.checksum");
  EXPECT_EQ(std::strncmp(f.meta[1], "crc32:", 6), 0);
  EXPECT_STREQ(f.meta[4], "user.note");
  EXPECT_STREQ(f.meta[5], "a\\b\n\"c\"");
  graft_st_free(&f);

  // A flipped bit that leaves the structure whole is a checksum mismatch,
  // in the header (a name) as in the data.
  for (size_t at : {file.find("fc.weight") + 1, file.size() - 1}) {
    std::string flipped = file;
    flipped[at] ^= 4;
    EXPECT_NE(errorOf(flipped).find("the checkpoint is corrupted"),
              std::string::npos)
        << at;
  }
}

TEST(Safetensors, DamageIsRefusedWithItsReason) {
  std::string data16(16, '\0');
  auto expect = [](const std::string &file, const char *what) {
    std::string err = errorOf(file);
    EXPECT_NE(err.find(what), std::string::npos)
        << "expected '" << what << "', got '" << err << "'";
  };
  expect("1234", "not a safetensors file (4 bytes");
  expect(rawFile("{}", "").substr(0, 9), "a truncated one");
  expect(rawFile("[]", ""), "not a JSON object");
  expect(rawFile("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":"
                 "[0,8]},\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
                 "\"data_offsets\":[8,16]}}",
                 data16),
         "tensor 'a' appears twice");
  expect(rawFile("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":"
                 "[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],"
                 "\"data_offsets\":[4,12]}}",
                 data16),
         "overlap in the file");
  expect(rawFile("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":"
                 "[0,8]}}",
                 data16),
         "tensor 'a': 8 bytes of data for 3 elements of F32");
  expect(rawFile("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":"
                 "[0,24]}}",
                 data16),
         "lie outside the file (truncated?)");
  expect(rawFile("{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,"
                 "4611686018427387904],\"data_offsets\":[0,16]}}",
                 data16),
         "more elements than the file holds");
  expect(rawFile("{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", data16),
         "lacks its dtype, shape or data_offsets");
  expect(rawFile("{\"__metadata__\":{\"graft.model\":\"m\"}}", ""),
         "has Graft's metadata but no graft.checksum entry");
  expect(rawFile("{\"__metadata__\":{\"x\":" + std::string(40, '[') +
                     std::string(40, ']') + "}}",
                 ""),
         "nests more than 32 levels deep");
  expect(rawFile("{} x", ""), "text after the safetensors header");
  // Another tool's dtype and metadata it does not know are read as they
  // are; who wants such a tensor refuses it.
  EXPECT_EQ(errorOf(rawFile("{\"__metadata__\":{\"format\":\"pt\",\"n\":[1,"
                            "-2.5e3,true,null]},\"h\":{\"dtype\":\"F8_E4M3\","
                            "\"shape\":[3],\"data_offsets\":[0,16],"
                            "\"extra\":{\"k\":[]}}}",
                            data16)),
            "");
}

} // namespace
