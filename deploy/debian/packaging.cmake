# Installation layout and the Debian package (deploy/package.sh runs CPack).
#   /usr/bin/gsocd, /usr/bin/gsocctl, /usr/bin/gsoc-loadgen
#   /etc/gsoc/gsoc.yaml                     (conffile)
#   /usr/share/gsoc/rules/                  (the shipped rule pack)
#   /lib/systemd/system/gsocd.service
#   /usr/share/doc/gsoc/                    (README, copyright, example config,
#                                            Prometheus rules, Grafana dashboard)
# Data lives in /var/lib/gsoc (made by postinst, owned by the gsoc user).
include(GNUInstallDirs)
set(GSOC_DEB_DIR ${CMAKE_CURRENT_LIST_DIR})
set(GSOC_DEPLOY_SRC ${CMAKE_CURRENT_LIST_DIR}/..)

install(TARGETS gsocd gsocctl gsoc-loadgen RUNTIME DESTINATION bin)
install(FILES ${GSOC_DEB_DIR}/gsoc.yaml DESTINATION /etc/gsoc PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(DIRECTORY ${GSOC_SOURCE_DIR}/rules/ DESTINATION share/gsoc/rules
        PATTERN "tests" EXCLUDE)
install(FILES ${GSOC_DEPLOY_SRC}/systemd/gsocd.service DESTINATION /lib/systemd/system)
# A Debian native package carries its changelog, compressed (lintian).
set(GSOC_CHANGELOG ${CMAKE_BINARY_DIR}/debian/changelog)
string(TIMESTAMP GSOC_BUILD_DATE "%a, %d %b %Y %H:%M:%S +0000" UTC)
file(WRITE ${GSOC_CHANGELOG}
     "gsoc (${PROJECT_VERSION}) unstable; urgency=medium\n\n"
     "  * Release ${PROJECT_VERSION}: see /usr/share/doc/gsoc/README.md.\n\n"
     " -- gsoc maintainers <gsoc-maintainers@example.org>  ${GSOC_BUILD_DATE}\n")
execute_process(COMMAND gzip -9nf ${GSOC_CHANGELOG})
install(FILES ${GSOC_SOURCE_DIR}/README.md ${GSOC_DEB_DIR}/copyright ${GSOC_CHANGELOG}.gz
        DESTINATION share/doc/gsoc)
install(FILES ${GSOC_DEPLOY_SRC}/gsoc.yaml DESTINATION share/doc/gsoc RENAME gsoc.yaml.example)
install(FILES ${GSOC_DEPLOY_SRC}/prometheus/gsoc-alerts.yml ${GSOC_DEPLOY_SRC}/grafana/gsoc.json
        DESTINATION share/doc/gsoc)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME gsoc)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_CONTACT "gsoc maintainers <gsoc-maintainers@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "streaming security-event correlation engine")
set(CPACK_PACKAGE_DESCRIPTION
    "gsocd receives syslog and JSON events from agencies, matches them against\n Sigma rules compiled into Hyperscan, correlates them in event time, stores\n the alerts in RocksDB and serves them over an HTTP API.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # gsoc_<version>_amd64.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # runtime libraries from what we link
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${GSOC_DEB_DIR}/postinst ${GSOC_DEB_DIR}/prerm ${GSOC_DEB_DIR}/postrm ${GSOC_DEB_DIR}/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
include(CPack)
