// Runs the spin models of models/ (the deque, the sleep/wake protocol, the
// task pool's shared free lists) and checks each result both ways: the model of the
// real protocol has no error in any interleaving, and each deliberately
// broken variant (a fence or a check left out) has one, which shows that
// the model can fail. Needs `spin` and a C compiler (./tasklets.sh deps).
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <regex>
#include <string>

namespace {

namespace fs = std::filesystem;

struct Outcome {
  int exit_code = -1;
  std::string output;
};

Outcome run(const std::string& command) {
  Outcome o;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return o;
  std::array<char, 4096> buf;
  while (std::fgets(buf.data(), buf.size(), p) != nullptr) o.output += buf.data();
  const int status = pclose(p);
  o.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return o;
}

bool have(const char* tool) { return run(std::string("command -v ") + tool).exit_code == 0; }

// Verifies models/<model>.pml with the given -D flags; returns the number
// of errors pan reports (or fails the test if it could not tell).
int errors_of(const std::string& model, const std::string& defines, const std::string& pan_flags = "") {
  const fs::path dir = fs::temp_directory_path() / ("tasklets-model-" + model + "-" + std::to_string(::getpid()) + "-" +
                                                    std::to_string(std::hash<std::string>{}(defines)));
  fs::create_directories(dir);
  const std::string source = std::string(TASKLETS_MODELS_DIR) + "/" + model + ".pml";
  const std::string cd = "cd '" + dir.string() + "' && ";
  const Outcome gen = run(cd + "spin " + defines + " -a '" + source + "'");
  EXPECT_EQ(gen.exit_code, 0) << gen.output;
  const Outcome cc = run(cd + "cc -O2 -DSAFETY " + pan_flags + " -o pan pan.c");
  EXPECT_EQ(cc.exit_code, 0) << cc.output;
  const Outcome pan = run(cd + "./pan -m200000");
  fs::remove_all(dir);
  EXPECT_EQ(pan.output.find("max search depth too small"), std::string::npos) << pan.output;
  std::smatch m;
  if (!std::regex_search(pan.output, m, std::regex("errors: (\\d+)"))) {
    ADD_FAILURE() << "no verdict from pan:\n" << pan.output;
    return -1;
  }
  return std::stoi(m[1]);
}

class Models : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(have("spin")) << "spin is needed (apt-get install spin, or ./tasklets.sh deps)";
    ASSERT_TRUE(have("cc")) << "a C compiler is needed for spin's verifier";
  }
};

}  // namespace

TEST_F(Models, TheDequeHandsOutEveryElementExactlyOnceOnTso) {
  EXPECT_EQ(errors_of("deque", "", "-DCOLLAPSE"), 0);
}

TEST_F(Models, TheDequeWithoutItsPopFenceHandsAnElementOutTwice) {
  EXPECT_GT(errors_of("deque", "-DNO_POP_FENCE", "-DCOLLAPSE"), 0);
}

TEST_F(Models, TheSleepProtocolLosesNoWakeup) { EXPECT_EQ(errors_of("sleep", ""), 0); }

TEST_F(Models, TheSleepProtocolWithoutAWakeUpCheckLosesOne) {
  EXPECT_GT(errors_of("sleep", "-DNEVER_CHECK"), 0);
}

TEST_F(Models, ASubmitterThatBacksOutMustStillMakeTheWakeUpCheck) {
  EXPECT_GT(errors_of("sleep", "-DBACKOUT_SKIPS_CHECK"), 0);
}

TEST_F(Models, TheTaskPoolDepotLosesAndDuplicatesNoChain) { EXPECT_EQ(errors_of("task_pool", ""), 0); }

TEST_F(Models, AStackPoppedOneChainAtATimeByCasHandsAChainOutTwice) {
  EXPECT_GT(errors_of("task_pool", "-DPOP_ONE_BY_CAS"), 0);
}
