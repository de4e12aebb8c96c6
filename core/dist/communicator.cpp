#include "dist/communicator.h"

#include "util/error.h"

#include <ATen/ATen.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <algorithm>
#include <map>
#include <thread>

namespace ft::dist {

namespace {

using Clock = std::chrono::steady_clock;

std::string firstLine(std::string text)
{
    if (auto nl = text.find('\n'); nl != std::string::npos)
        text.resize(nl);
    return text;
}

std::string rankKey(const char* kind, int rank) { return std::string("ftstudio/") + kind + "/" + std::to_string(rank); }

} // namespace

struct Communicator::Pending {
    std::vector<at::Tensor> tensors;
    c10::intrusive_ptr<c10d::Work> work;
};

struct Communicator::State {
    c10::intrusive_ptr<c10d::Store> store;
    c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
};

Communicator::Communicator(const LaunchEnv& env, const CommunicatorOptions& options)
    : m_env(env), m_options(options), m_state(std::make_unique<State>())
{
}

Communicator::~Communicator() = default;

std::unique_ptr<Communicator> Communicator::connect(const LaunchEnv& env, const CommunicatorOptions& options)
{
    if (options.backend == "nccl")
        fail("distributed.backend: nccl is not available: the libtorch this studio is built with has no NCCL "
             "process group; use gloo (it all-reduces CUDA tensors too) or auto");
    if (options.backend != "auto" && options.backend != "gloo")
        fail("distributed.backend: unknown backend '" + options.backend + "' (auto, gloo or nccl)");
    std::unique_ptr<Communicator> c(new Communicator(env, options));
    const std::string where = env.masterAddr + ":" + std::to_string(env.masterPort);
    try {
        c10d::TCPStoreOptions storeOptions;
        storeOptions.port = uint16_t(env.masterPort);
        storeOptions.isServer = env.rank == 0 && !env.agentStore;
        storeOptions.numWorkers = env.worldSize;
        storeOptions.waitWorkers = true;
        storeOptions.timeout = options.timeout;
        auto tcp = c10::make_intrusive<c10d::TCPStore>(env.masterAddr, storeOptions);
        if (env.agentStore)
            c->m_state->store = c10::make_intrusive<c10d::PrefixStore>(
                "/worker/attempt_" + std::to_string(env.restartCount), tcp);
        else
            c->m_state->store = tcp;
    } catch (const std::exception& e) {
        fail("rank " + std::to_string(env.rank) + " (host " + hostName() + "): rendezvous at " + where +
             " failed within " + std::to_string(options.timeout.count() / 1000) + " s" +
             (env.rank == 0 ? " (rank 0 hosts it: is the port in use?)" : " (is rank 0 running, and the address right?)") +
             ": " + firstLine(e.what()));
    }
    try {
        auto groupOptions = c10d::ProcessGroupGloo::Options::create(options.timeout);
        // The interface that routes to the rendezvous host: loopback for one machine.
        groupOptions->devices.push_back(env.masterAddr == "127.0.0.1" || env.masterAddr == "localhost"
                                            ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                                            : c10d::ProcessGroupGloo::createDefaultDevice());
        const std::string host = hostName();
        c->m_state->store->set(rankKey("host", env.rank), std::vector<uint8_t>(host.begin(), host.end()));
        c->m_state->group = c10::make_intrusive<c10d::ProcessGroupGloo>(c->m_state->store, env.rank, env.worldSize,
                                                                        groupOptions);
        for (int r = 0; r < env.worldSize; ++r) {
            const std::vector<uint8_t> host = c->m_state->store->get(rankKey("host", r));
            c->m_hosts.emplace_back(host.begin(), host.end());
        }
    } catch (const std::exception& e) {
        fail("rank " + std::to_string(env.rank) + " (host " + hostName() + "): connecting the " +
             std::to_string(env.worldSize) + " processes through " + where + " failed: " + firstLine(e.what()));
    }
    c->barrier();
    return c;
}

template <typename F>
void Communicator::collective(const char* what, F&& body)
{
    const auto start = Clock::now();
    try {
        body();
    } catch (const ft::Error&) {
        throw;
    } catch (const std::exception& e) {
        failCollective(what, firstLine(e.what()));
    }
    m_seconds += std::chrono::duration<double>(Clock::now() - start).count();
}

void Communicator::failCollective(const char* what, const std::string& detail)
{
    const std::string self = "rank " + std::to_string(rank()) + " (host " + hostName() + ")";
    auto named = [&](int r) {
        return "rank " + std::to_string(r) + " (host " + (size_t(r) < m_hosts.size() ? m_hosts[size_t(r)] : "?") + ")";
    };
    std::string culprit;
    try {
        // Every rank whose collective failed says so; after a short wait, the ranks
        // that did not are the ones that died or hang. A rank that failed on its own
        // left its message.
        auto& store = *m_state->store;
        store.set(rankKey("survivor", rank()), std::vector<uint8_t>{1});
        std::vector<std::string> reported;
        for (int r = 0; r < worldSize(); ++r)
            if (r != rank() && store.check({rankKey("error", r)})) {
                const std::vector<uint8_t> m = store.get(rankKey("error", r));
                reported.push_back(named(r) + " failed: " + std::string(m.begin(), m.end()));
            }
        if (!reported.empty()) {
            culprit = reported.front();
        } else {
            const auto deadline = Clock::now() + std::min<Clock::duration>(m_options.timeout, std::chrono::seconds(5));
            std::vector<int> silent;
            do {
                silent.clear();
                for (int r = 0; r < worldSize(); ++r)
                    if (r != rank() && !store.check({rankKey("survivor", r)}) && !store.check({rankKey("error", r)}))
                        silent.push_back(r);
                if (!silent.empty())
                    std::this_thread::sleep_for(std::chrono::milliseconds(100));
            } while (!silent.empty() && Clock::now() < deadline);
            for (int r : silent)
                culprit += (culprit.empty() ? "" : ", ") + named(r);
            culprit = culprit.empty() ? "another rank failed" : culprit + " stopped or stopped answering";
        }
    } catch (const std::exception&) {
        const std::string store = m_env.masterAddr + ":" + std::to_string(m_env.masterPort);
        culprit = m_env.agentStore ? "torchrun's rendezvous at " + store + " became unreachable"
                                   : named(0) + ", which hosts the rendezvous at " + store +
                                         ", stopped or became unreachable";
    }
    fail(self + ": " + what + " across " + std::to_string(worldSize()) + " processes failed: " + culprit + " (" +
         detail + ")");
}

void Communicator::reportFailure(const std::string& message) noexcept
{
    try {
        if (!m_state->store)
            return;
        m_state->store->set(rankKey("error", rank()), std::vector<uint8_t>(message.begin(), message.end()));
        if (rank() != 0)
            return;
        // Rank 0 hosts the store: stay a moment so that the others can read the message.
        const auto deadline = Clock::now() + std::chrono::seconds(5);
        for (int r = 1; r < worldSize() && Clock::now() < deadline;)
            if (m_state->store->check({rankKey("survivor", r)}) || m_state->store->check({rankKey("error", r)}))
                ++r;
            else
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
    } catch (...) {
    }
}

void Communicator::allreduceSum(std::vector<at::Tensor>& tensors)
{
    if (worldSize() == 1 || tensors.empty())
        return;
    collective("all-reduce", [&] {
        // Buckets of one dtype and device, in the given order (the same on every rank).
        std::vector<std::vector<size_t>> buckets;
        int64_t bucketBytes = 0;
        for (size_t i = 0; i < tensors.size(); ++i) {
            const at::Tensor& t = tensors[i];
            const bool fits = !buckets.empty() && bucketBytes + int64_t(t.nbytes()) <= m_options.bucketBytes &&
                              tensors[buckets.back().front()].scalar_type() == t.scalar_type() &&
                              tensors[buckets.back().front()].device() == t.device();
            if (!fits) {
                buckets.emplace_back();
                bucketBytes = 0;
            }
            buckets.back().push_back(i);
            bucketBytes += int64_t(t.nbytes());
        }
        std::vector<std::vector<at::Tensor>> flat(buckets.size());
        std::vector<c10::intrusive_ptr<c10d::Work>> work;
        for (size_t b = 0; b < buckets.size(); ++b) {
            std::vector<at::Tensor> parts;
            for (size_t i : buckets[b])
                parts.push_back(tensors[i].reshape({-1}));
            flat[b] = {at::cat(parts)};
            work.push_back(m_state->group->allreduce(flat[b]));
        }
        for (size_t b = 0; b < buckets.size(); ++b) {
            work[b]->wait();
            int64_t at = 0;
            for (size_t i : buckets[b]) {
                const int64_t n = tensors[i].numel();
                tensors[i].copy_(flat[b][0].narrow(0, at, n).view(tensors[i].sizes()));
                at += n;
            }
        }
    });
}

std::shared_ptr<Communicator::Pending> Communicator::startSum(const at::Tensor& flat)
{
    auto pending = std::make_shared<Pending>();
    pending->tensors = {flat};
    if (worldSize() > 1)
        collective("all-reduce", [&] { pending->work = m_state->group->allreduce(pending->tensors); });
    return pending;
}

at::Tensor Communicator::finish(Pending& pending)
{
    if (pending.work) {
        collective("all-reduce", [&] { pending.work->wait(); });
        pending.work.reset();
    }
    return pending.tensors.front();
}

void Communicator::broadcast(std::vector<at::Tensor>& tensors, int root)
{
    if (worldSize() == 1 || tensors.empty())
        return;
    collective("broadcast", [&] {
        c10d::BroadcastOptions options;
        options.rootRank = root;
        for (at::Tensor& t : tensors) {
            std::vector<at::Tensor> one{t.is_contiguous() ? t : t.contiguous()};
            m_state->group->broadcast(one, options)->wait();
            if (!one[0].is_same(t))
                t.copy_(one[0]);
        }
    });
}

std::vector<double> Communicator::sum(std::vector<double> values)
{
    if (worldSize() == 1 || values.empty())
        return values;
    std::vector<at::Tensor> t{at::tensor(values, at::kDouble)};
    collective("all-reduce", [&] { m_state->group->allreduce(t)->wait(); });
    return std::vector<double>(t[0].data_ptr<double>(), t[0].data_ptr<double>() + t[0].numel());
}

std::vector<double> Communicator::max(std::vector<double> values)
{
    if (worldSize() == 1 || values.empty())
        return values;
    std::vector<at::Tensor> t{at::tensor(values, at::kDouble)};
    c10d::AllreduceOptions options;
    options.reduceOp = c10d::ReduceOp::MAX;
    collective("all-reduce", [&] { m_state->group->allreduce(t, options)->wait(); });
    return std::vector<double>(t[0].data_ptr<double>(), t[0].data_ptr<double>() + t[0].numel());
}

std::vector<double> Communicator::gather(double value)
{
    std::vector<double> slots(size_t(worldSize()), 0.0);
    slots[size_t(rank())] = value;
    return sum(std::move(slots));
}

void Communicator::barrier()
{
    if (worldSize() == 1)
        return;
    collective("barrier", [&] { m_state->group->barrier()->wait(); });
}

double Communicator::takeCommunicationSeconds()
{
    const double s = m_seconds;
    m_seconds = 0;
    return s;
}

} // namespace ft::dist
