#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include <fcgi/client/request.hpp>

namespace fcgi::client {

body_source::owned_fd::~owned_fd() {
  if (owned && fd >= 0) ::close(fd);
}

body_source body_source::from_string(std::string bytes) {
  body_source source;
  source.type_ = kind::bytes;
  source.storage_ = std::make_shared<const std::string>(std::move(bytes));
  source.view_ = *source.storage_;
  return source;
}

body_source body_source::from_view(std::string_view bytes) {
  body_source source;
  source.type_ = kind::bytes;
  source.view_ = bytes;
  return source;
}

body_source body_source::from_fd(int fd, bool owned) {
  body_source source;
  source.type_ = kind::descriptor;
  source.fd_ = std::make_shared<owned_fd>(fd, owned);
  return source;
}

body_source body_source::from_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "cannot open " + path);
  return from_fd(fd, true);
}

std::int64_t body_source::known_size() const {
  switch (type_) {
    case kind::empty: return 0;
    case kind::bytes: return static_cast<std::int64_t>(view_.size());
    case kind::descriptor: {
      struct stat st {};
      if (::fstat(fd(), &st) != 0 || !S_ISREG(st.st_mode)) return -1;
      const off_t position = ::lseek(fd(), 0, SEEK_CUR);
      return static_cast<std::int64_t>(st.st_size - (position > 0 ? position : 0));
    }
  }
  return -1;
}

}  // namespace fcgi::client
