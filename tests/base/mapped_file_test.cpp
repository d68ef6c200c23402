#include "base/mapped_file.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace ember {
namespace {

TEST(MappedFile, MapsContentsAndReportsMissingFiles) {
  const std::string path = testing::TempDir() + "/ember_mapped_file_test.bin";
  {
    std::ofstream out(path, std::ios::binary);
    out << "hello ember";
  }
  auto f = MappedFile::open(path);
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  ASSERT_EQ(f->size(), 11u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(f->data()), f->size()), "hello ember");
  auto text = read_file(path);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "hello ember");
  std::remove(path.c_str());

  auto missing = MappedFile::open(path);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kIoError);
  EXPECT_NE(missing.status().message().find(path), std::string::npos);
  EXPECT_FALSE(MappedFile::open("/").ok());
}

}  // namespace
}  // namespace ember
